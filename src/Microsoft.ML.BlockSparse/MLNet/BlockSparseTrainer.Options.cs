namespace Microsoft.ML.BlockSparse;

public sealed partial class BlockSparseTrainer
{
    /// <summary>
    /// Options of <see cref="BlockSparseTrainer"/>. The defaults are a good MNIST configuration
    /// (784 → 300 → 100 → 10) that trains in a few minutes on two CPU cores.
    /// </summary>
    public sealed class Options
    {
        /// <summary>Label column, a key type (use <c>MapValueToKey</c>). Default <c>"Label"</c>.</summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>Feature column, a known-size vector of <see cref="float"/>. Default <c>"Features"</c>.</summary>
        public string FeatureColumnName { get; set; } = "Features";

        /// <summary>Sizes of the hidden layers, input side first. Default <c>[300, 100]</c>.</summary>
        public int[] HiddenLayers { get; set; } = [300, 100];

        /// <summary>Kronecker rank <c>r</c> of every factored layer: more is more expressive and costlier. Default 4.</summary>
        public int Rank { get; set; } = Defaults.Rank;

        /// <summary>
        /// One block shape for every layer. A layer it does not tile stays dense (the report says so).
        /// Null (default): each layer gets a shape near <c>√out × √in</c> that tiles it.
        /// </summary>
        public BlockShape? BlockShape { get; set; }

        /// <summary>
        /// One block shape per layer (hidden layers, then the output layer), overriding
        /// <see cref="BlockShape"/>. Each must tile its layer. Default null.
        /// </summary>
        public BlockShape[]? LayerBlockShapes { get; set; }

        /// <summary>
        /// The shape (channels, height, width) of each image when the features are pixels; <c>C·H·W</c> must equal
        /// the feature length. Null (default): taken from the feature column when <c>ExtractPixels</c> made it,
        /// otherwise the features are a flat vector. (The MLP reads flat features and only checks the shape.)
        /// </summary>
        public ImageShape? ImageShape { get; set; }

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
        /// gradient stays below λ1, and λ1 is on the scale of the loss gradient: METHOD.md's 0.01 (for plain SGD
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

        /// <summary>Where to train. Default <see cref="ComputeDevice.Auto"/> (CUDA if available, else CPU).</summary>
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

        internal void Validate()
        {
            Require(!string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), "must name a column");
            Require(!string.IsNullOrWhiteSpace(FeatureColumnName), nameof(FeatureColumnName), "must name a column");
            ArgumentNullException.ThrowIfNull(HiddenLayers, nameof(HiddenLayers));
            for (int i = 0; i < HiddenLayers.Length; i++)
                Require(HiddenLayers[i] >= 1, nameof(HiddenLayers), $"holds {HiddenLayers[i]} at position {i}; every hidden layer needs at least 1 unit");
            Require(Rank >= 1, nameof(Rank), $"is {Rank}; the Kronecker rank must be at least 1");
            if (BlockShape is { } shared)
                Require(shared.Rows >= 1 && shared.Columns >= 1, nameof(BlockShape), $"is {shared}; both sides must be at least 1");
            if (LayerBlockShapes is not null)
            {
                Require(LayerBlockShapes.Length == HiddenLayers.Length + 1, nameof(LayerBlockShapes),
                    $"has {LayerBlockShapes.Length} shapes; it needs one per layer, {HiddenLayers.Length + 1} (hidden layers, then the output layer)");
            }
            Require(Epochs >= 1, nameof(Epochs), $"is {Epochs}; train for at least 1 epoch");
            Require(BatchSize >= 1, nameof(BatchSize), $"is {BatchSize}; a batch needs at least 1 row");
            Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"is {LearningRate}; it must be a positive number");
            Require(Enum.IsDefined(LearningRateSchedule), nameof(LearningRateSchedule), $"is {(int)LearningRateSchedule}; expected Constant or Cosine");
            Require(L1Start >= 0 && double.IsFinite(L1Start), nameof(L1Start), $"is {L1Start}; λ1 must be 0 or more");
            Require(L1Increment >= 0 && double.IsFinite(L1Increment), nameof(L1Increment), $"is {L1Increment}; it must be 0 or more");
            Require(L1EveryEpochs >= 1, nameof(L1EveryEpochs), $"is {L1EveryEpochs}; it must be at least 1");
            Require(PruneEveryEpochs >= 0, nameof(PruneEveryEpochs), $"is {PruneEveryEpochs}; use 0 to turn hard pruning off");
            Require(PruneThreshold >= 0 && double.IsFinite(PruneThreshold), nameof(PruneThreshold), $"is {PruneThreshold}; it must be 0 or more");
            Require(Enum.IsDefined(Device), nameof(Device), $"is {(int)Device}; expected Auto, Cpu or Cuda");
        }

        private static void Require(bool condition, string option, string problem)
        {
            if (!condition)
                throw new ArgumentOutOfRangeException(option, $"BlockSparseTrainer.Options.{option} {problem}.");
        }
    }
}
