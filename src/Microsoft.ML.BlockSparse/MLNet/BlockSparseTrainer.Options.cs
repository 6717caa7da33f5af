namespace Microsoft.ML.BlockSparse;

public sealed partial class BlockSparseTrainer
{
    /// <summary>
    /// Options of <see cref="BlockSparseTrainer"/>. The defaults are a good MNIST configuration
    /// (784 → 300 → 100 → 10) that trains in a few minutes on two CPU cores.
    /// </summary>
    public sealed partial class Options
    {
        /// <summary>Label column, a key type (use <c>MapValueToKey</c>). Default <c>"Label"</c>.</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>
        /// Feature column: a known-size vector of <see cref="float"/>, or encoded image bytes (<c>byte[]</c>: PNG, JPEG, BMP, GIF or
        /// WebP, as Model Builder's <c>ImageSource</c>), which the trainer decodes to <see cref="ImageShape"/>. Default <c>"Features"</c>.
        /// </summary>
        public string FeatureColumnName { get; set; } = "Features";

        /// <summary>
        /// Sizes of the hidden layers, input side first. Default <c>[300, 100]</c>. Only for
        /// <see cref="NetworkArchitecture.Mlp"/>: LeNet5's layer sizes are fixed, and it ignores this option.
        /// </summary>
        public int[] HiddenLayers { get; set; } = [300, 100];

        /// <summary>
        /// The network: <see cref="NetworkArchitecture.Mlp"/> (default) on the flat features, or
        /// <see cref="NetworkArchitecture.LeNet5"/>, two convolutions with pooling then three linear layers, which needs
        /// the image shape (<see cref="ImageShape"/>, or a feature column made by <c>ExtractPixels</c>). For LeNet5,
        /// <see cref="LayerBlockShapes"/> holds five entries (the two convolutions' channel blocks, output x input
        /// channels, then the three linear layers), <see cref="BlockShape"/> and <see cref="SearchBlockShapes"/> apply to
        /// the linear layers only, and <see cref="CandidateBlockShapes"/> is not supported. A convolution with no given
        /// shape is factored with the cheapest channel block that saves both parameters and FLOPs, else stays dense.
        /// <see cref="NetworkArchitecture.VisionTransformer"/> also needs the image shape; its sizes are the <c>Vit*</c>
        /// options, and <see cref="LayerBlockShapes"/> and <see cref="CandidateBlockShapes"/> hold one entry per factored
        /// layer in the report's order (patch, then each block's qkv, proj, fc1, fc2, then the classifier).
        /// </summary>
        public NetworkArchitecture Architecture { get; set; } = NetworkArchitecture.Mlp;

        /// <summary>Kronecker rank <c>r</c> of every factored layer: more is more expressive and costlier. Default 4.</summary>
        public int Rank { get; set; } = Defaults.Rank;

        /// <summary>
        /// One block shape for every layer. A layer it does not tile stays dense (the report says so).
        /// Null (default): each layer gets its automatic shape: of the shapes that tile it with no more parameters than
        /// the balanced one (near <c>√out × √in</c>) and the same bound on the weight's rank, the one with the fewest FLOPs
        /// (for 784→300 at rank 4: 10×56, where the balanced shape is 15×28); the output layer keeps the balanced shape;
        /// a layer where the balanced shape would not be cheaper than dense stays dense.
        /// </summary>
        public BlockShape? BlockShape { get; set; }

        /// <summary>
        /// One block shape per layer (hidden layers, then the output layer), overriding <see cref="BlockShape"/>.
        /// Each must tile its layer; a null entry lets that layer's shape be chosen automatically (as when
        /// <see cref="BlockShape"/> is null). Default null.
        /// </summary>
        public BlockShape?[]? LayerBlockShapes { get; set; }

        /// <summary>
        /// Which training method: <see cref="BlockSparseMethod.Kronecker"/> (default), or one of the baselines
        /// <see cref="BlockSparseMethod.Dense"/> and <see cref="BlockSparseMethod.GroupLasso"/>, which go through the
        /// same data path, report and save/load, so the three compare like for like.
        /// </summary>
        public BlockSparseMethod Method { get; set; } = BlockSparseMethod.Kronecker;

        /// <summary>
        /// Candidate block shapes per layer (hidden layers, then the output layer), each a non-empty list of
        /// shapes that tile the layer. A layer with several holds one factor set per candidate, and λ2
        /// (<see cref="ShapeSearchLambdaStart"/>) chooses among them during training. Overrides <see cref="LayerBlockShapes"/>,
        /// <see cref="BlockShape"/> and <see cref="SearchBlockShapes"/>. Default null.
        /// </summary>
        public BlockShape[][]? CandidateBlockShapes { get; set; }

        /// <summary>
        /// When no shape is given, let λ2 choose each layer's block shape from automatic candidates: the balanced
        /// shape (near <c>√out × √in</c>) and the shapes with both sides about halved and doubled, those cheaper
        /// than the dense layer (at most three per layer). Training starts at the cost of all candidates and gets
        /// cheaper as λ2 retires them. Default false (the automatic shape alone, see <see cref="BlockShape"/>).
        /// </summary>
        public bool SearchBlockShapes { get; set; }

        /// <summary>
        /// A FLOP budget for <see cref="SearchBlockShapes"/>' candidates, as a fraction of each layer's dense training FLOPs
        /// (for example 0.05). Above 0, a layer's candidates are, instead of the near-<c>√</c> shapes, the three shapes within
        /// the budget that allow the highest rank of the weight (ties to fewer parameters), so the search compares shapes
        /// of about the cost it will keep. A layer where no shape fits (a small output layer) gets the automatic shape, or
        /// stays dense, and the sparsity report names it (<see cref="Reporting.LayerSparsity.PlanNote"/>), since it then costs
        /// more than the budget. Requires <see cref="SearchBlockShapes"/>. Default 0 (no budget).
        /// </summary>
        public double ShapeSearchFlopFraction { get; set; }

        /// <summary>
        /// λ2 in the first epochs (the block-shape search's λ; not a ridge penalty): the weight of the group penalty <c>λ2·Σ_c ‖θ_c‖₂</c> over a layer's candidate
        /// block shapes. Taken in Adam's metric like λ1, so a candidate collapses when the norm of its smoothed
        /// gradient stays below λ2. Only layers with more than one live candidate are penalised, and never the leading candidate. Default 0.05.
        /// </summary>
        public double ShapeSearchLambdaStart { get; set; } = Defaults.ShapeSearchLambdaStart;

        /// <summary>Added to λ2 every <see cref="ShapeSearchLambdaEveryEpochs"/> epochs. Default 0.01.</summary>
        public double ShapeSearchLambdaIncrement { get; set; } = Defaults.ShapeSearchLambdaIncrement;

        /// <summary>Epochs between λ2 increments. Default 5.</summary>
        public int ShapeSearchLambdaEveryEpochs { get; set; } = Defaults.ShapeSearchLambdaEveryEpochs;

        /// <summary>
        /// After each epoch, a candidate whose share of the weight <c>‖W_c‖_F</c> is at most this fraction of the
        /// largest in its layer is removed for good, and its compute stops. Default 0.01.
        /// </summary>
        public double CandidateRetireFraction { get; set; } = Defaults.CandidateRetireFraction;

        /// <summary>
        /// When the block-shape search decides: at the end of this epoch, every layer still holding several candidates keeps
        /// only the one with the largest share of the weight <c>‖W_c‖_F</c> (the one λ2 has favoured so far), and from then
        /// on trains and computes it alone. Every live candidate costs a full factored layer, so the search costs about
        /// that many epochs of all candidates, then the survivor's cost. Default 1, the cheapest decision: on MNIST the
        /// search then costs about what its survivors cost (README, "Choosing the block shape during training"). 0 never forces
        /// the decision: candidates retire only as λ2 collapses them (<see cref="CandidateRetireFraction"/>).
        /// </summary>
        public int ShapeSearchDecisionEpochs { get; set; } = Defaults.ShapeSearchDecisionEpochs;

        /// <summary>
        /// λ of the <see cref="BlockSparseMethod.GroupLasso"/> baseline's penalty <c>λ·Σ_blocks ‖W_block‖_F</c>, taken in
        /// Adam's metric (a block goes to zero when its smoothed gradient norm stays below λ). Default 0.001.
        /// </summary>
        public double GroupLassoLambda { get; set; } = Defaults.GroupLassoLambda;

        /// <summary>After <see cref="BlockSparseMethod.GroupLasso"/> training, blocks whose Frobenius norm is at most this are pruned. Default 0.001.</summary>
        public double GroupLassoPruneThreshold { get; set; } = Defaults.GroupLassoPruneThreshold;

        /// <summary>
        /// <see cref="BlockSparseMethod.GroupLasso"/> only: after training also prune each layer's smallest blocks (by
        /// Frobenius norm) until this fraction of its blocks is zero, to compare with another method at equal block
        /// sparsity. Null (default): the threshold alone decides.
        /// </summary>
        public double? TargetBlockSparsity { get; set; }

        /// <summary>
        /// The shape (channels, height, width) of each image when the features are pixels; <c>C·H·W</c> must equal
        /// the feature length. Null (default): taken from the feature column when <c>ExtractPixels</c> made it,
        /// otherwise the features are a flat vector. LeNet5 (<see cref="Architecture"/>) needs it; the MLP reads flat
        /// features and only checks the shape. For IDX MNIST data it is 1x28x28.
        /// <para>
        /// When the feature column holds encoded image bytes (<c>byte[]</c>, Model Builder's <c>ImageSource</c>), this is the
        /// shape every image is decoded to, for training and in the returned model: 1 channel (grayscale) or 3 (RGB), each
        /// image scaled uniformly to cover height x width and centre-cropped (ML.NET's <c>ResizeImages</c>, <c>IsoCrop</c>),
        /// pixels value / 255. Null: from the first training image, 1 channel if it is grey and 3 otherwise, its height and
        /// width scaled down (aspect kept) so the longer side is at most 64. Images may declare at most
        /// 8192x8192 pixels (<c>ImageFileCheck.MaxPixels</c>); larger ones, and bytes that are not a complete image, are refused
        /// before they are decoded.
        /// </para>
        /// </summary>
        public ImageShape? ImageShape { get; set; }

        /// <summary>
        /// Trained dense weights to start from, one per layer (hidden layers, then the output layer), for fine-tuning an
        /// existing dense model: factored layers start at the nearest Kronecker product of their weight (rearrangement
        /// and SVD, docs/method.md) with every gate at one, dense layers at the weight itself. A Dense run's
        /// <see cref="BlockSparseModel.DenseWeights"/> has this form. Default null (random initialisation).
        /// </summary>
        public IReadOnlyList<DenseLayerWeights>? InitialWeights { get; set; }

        /// <summary>Passes over the training data. Default 30.</summary>
        public int Epochs { get; set; } = Defaults.Epochs;

        /// <summary>Rows per mini-batch. Default 128.</summary>
        public int BatchSize { get; set; } = Defaults.BatchSize;

        /// <summary>Adam's (peak) learning rate. Default 0.003.</summary>
        public double LearningRate { get; set; } = Defaults.LearningRate;

        /// <summary>How the learning rate changes over the run. Default <see cref="BlockSparse.LearningRateSchedule.Cosine"/>.</summary>
        public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.Cosine;

        /// <summary>
        /// λ1 in the first epochs: the weight of the L1 penalty on the block gates <c>S</c>. Larger gives more
        /// zero blocks. The proximal step is taken in Adam's metric, so a gate is zeroed when its smoothed
        /// gradient stays below λ1, and λ1 is on the scale of the loss gradient: docs/method.md's 0.01 (for plain SGD
        /// steps) zeroes too much here. Default 0.001.
        /// </summary>
        public double L1Start { get; set; } = Defaults.L1Start;

        /// <summary>Added to λ1 every <see cref="L1EveryEpochs"/> epochs. Default 0.0002.</summary>
        public double L1Increment { get; set; } = Defaults.L1Increment;

        /// <summary>Epochs between λ1 increments. Default 5.</summary>
        public int L1EveryEpochs { get; set; } = Defaults.L1EveryEpochs;

        /// <summary>
        /// Every this many epochs, blocks whose gate magnitude is at most <see cref="PruneThreshold"/> are
        /// removed for good (their gate is held at zero). 0 turns hard pruning off. Default 5.
        /// </summary>
        public int PruneEveryEpochs { get; set; } = Defaults.PruneEveryEpochs;

        /// <summary>Gate magnitude at or below which hard pruning removes a block. Default 0.001.</summary>
        public double PruneThreshold { get; set; } = Defaults.PruneThreshold;

        /// <summary>
        /// Where to train. Default <see cref="ComputeDevice.Auto"/> (CUDA if available, else CPU). On the CPU (x86-64
        /// Linux), training flushes denormal floats to zero on the thread that calls <c>Fit</c> while it trains and
        /// restores that thread's floating-point mode afterwards: Adam's moments decay into denormals where gradients
        /// stay zero, and x86 processors stall on them (README, "Denormals").
        /// </summary>
        public ComputeDevice Device { get; set; } = ComputeDevice.Auto;

        /// <summary>Seed for initialisation and shuffling: the same seed and data give the same model on CPU. Default 0.</summary>
        public int Seed { get; set; }

        /// <summary>
        /// Called once per epoch, synchronously on the training thread, with that epoch's summary.
        /// (<see cref="System.Progress{T}"/> would post to a synchronisation context instead.)
        /// </summary>
        public IProgress<EpochSummary>? Progress { get; set; }

        /// <summary>
        /// When set, each epoch's line also goes to this context's <see cref="MLContext.Log"/> event, ML.NET's log
        /// channel. (A catalog extension cannot reach the <see cref="MLContext"/> it hangs off: ML.NET keeps it internal.)
        /// </summary>
        public MLContext? LogContext { get; set; }

        /// <summary>
        /// Stops training at the next mini-batch when cancelled (it is also checked while the rows are read):
        /// <see cref="BlockSparseTrainer.Fit"/> then throws <see cref="OperationCanceledException"/>, and the last
        /// epoch's checkpoint (with <see cref="CheckpointDirectory"/>) stays for <see cref="ResumeFrom"/>. Default: none.
        /// </summary>
        public CancellationToken CancellationToken { get; set; }

        /// <summary>
        /// Where to write a checkpoint after every epoch (<c>epoch-NNNN.bscheckpoint</c>: weights, optimiser state,
        /// schedule position, early-stopping state, shuffling state), each to a temporary name and then renamed, keeping
        /// the last two. A directory that already holds checkpoints is refused unless <see cref="ResumeFrom"/> continues
        /// from it. Default null (no checkpoints).
        /// </summary>
        public string? CheckpointDirectory { get; set; }

        /// <summary>
        /// Continues the run that wrote this checkpoint: a checkpoint file, or a directory (its newest checkpoint).
        /// The options that shape training and the training data must be the same as that run's (checked, and a
        /// difference is named). On the CPU the resumed run ends with exactly the weights of an uninterrupted one.
        /// Set <see cref="CheckpointDirectory"/> too to keep checkpointing. Default null.
        /// </summary>
        public string? ResumeFrom { get; set; }

        /// <summary>
        /// Fraction of the training rows held out to measure accuracy after every epoch (which rows is decided by
        /// <see cref="Seed"/>; when streaming, by a hash of the seed and each row's position, which holds out about
        /// that fraction); they are not trained on. Between 0 and 1; 0 (default) holds out nothing.
        /// Exclusive with <see cref="ValidationSet"/>.
        /// </summary>
        public double ValidationFraction { get; set; }

        /// <summary>
        /// Rows to measure accuracy on after every epoch, with the training data's label and feature columns (the
        /// same key type: map them with the transformer fitted on the training data). Default null.
        /// </summary>
        public IDataView? ValidationSet { get; set; }

        /// <summary>
        /// Stops when this many epochs in a row bring no better validation accuracy, and keeps the weights of the
        /// epoch with the best one (also when training runs to <see cref="Epochs"/>). Needs
        /// <see cref="ValidationFraction"/> or <see cref="ValidationSet"/>. 0 (default) turns early stopping off,
        /// and the last epoch's weights are kept.
        /// </summary>
        public int EarlyStoppingPatience { get; set; }

        /// <summary>
        /// Whether the training rows are copied into memory or streamed from the data view every epoch. Default
        /// <see cref="BlockSparse.DataCaching.Auto"/>: in memory when the features fit in <see cref="MemoryCacheBudgetBytes"/>,
        /// else streamed. Both are deterministic for a seed, but they visit the rows in different orders, so a model
        /// trained streaming is not bit-identical to one trained in memory.
        /// </summary>
        public DataCaching DataCaching { get; set; } = DataCaching.Auto;

        /// <summary>
        /// With <see cref="BlockSparse.DataCaching.Auto"/>, the largest feature data (rows × features × 4 bytes) kept in
        /// memory; larger data is streamed. The in-memory path briefly holds about three times this while it reads the
        /// rows. Default 2 GiB.
        /// </summary>
        public long MemoryCacheBudgetBytes { get; set; } = Defaults.MemoryCacheBudgetBytes;

        /// <summary>
        /// When streaming, the rows held in the shuffle buffer: each mini-batch row is drawn at random from the
        /// buffer and replaced by the next row read, so a row can move up to about this many places; the buffer's
        /// memory is this × features × 4 bytes. More mixes better (data sorted by class needs a buffer of several
        /// classes' rows); at least the data's row count gives a full random permutation of each epoch. Default 16384.
        /// </summary>
        public int ShuffleBufferRows { get; set; } = Defaults.ShuffleBufferRows;

        /// <summary>
        /// On Linux with glibc, before training, pins malloc's mmap threshold (32 MiB) and turns off heap trimming,
        /// so memory a training step frees is reused by the next one instead of being returned to the system and
        /// page-faulted back (measured: fewer minor page faults per step and steadier, faster steps; README,
        /// "When the method pays: scaling"). The setting is process-wide and stays for the process's lifetime;
        /// it is skipped where <c>MALLOC_MMAP_THRESHOLD_</c> or <c>MALLOC_TRIM_THRESHOLD_</c> is set in the
        /// environment. Default true; false leaves the allocator alone.
        /// </summary>
        public bool TuneNativeAllocator { get; set; } = true;
    }
}
