using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.BlockSparse.MLNet;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Training;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Trains a multiclass classifier whose layers are Kronecker-factored, <c>W = Σ_i (S ⊙ A_i) ⊗ B_i</c>:
/// training touches only the small factors, and an L1 penalty on the block gates <c>S</c> makes whole
/// blocks of the weights exactly zero. Create it with
/// <c>mlContext.MulticlassClassification.Trainers.BlockSparse(...)</c>.
/// </summary>
/// <remarks>
/// Input: a key-typed label column and a feature column that is either a known-size <see cref="float"/> vector or
/// encoded image bytes (<c>byte[]</c>, PNG/JPEG/BMP/GIF/WebP: Model Builder's <c>ImageSource</c>), which the trainer
/// decodes, resizes to <see cref="Options.ImageShape"/> (centre-cropped) and scales to [0, 1] with ML.NET's image
/// transforms, for training and in the model it returns (see <see cref="Options.ImageShape"/>). Output
/// (<see cref="BlockSparseModel"/>): <c>Score</c>, one probability per class, and <c>PredictedLabel</c>,
/// of the label's key type, so <c>MulticlassClassification.Evaluate</c>, <c>MapKeyToValue</c> and
/// <c>PredictionEngine</c> work as with ML.NET's own trainers.
/// </remarks>
public sealed partial class BlockSparseTrainer : IEstimator<BlockSparseModel>
{
    private readonly Options options;

    internal BlockSparseTrainer(Options options)
    {
        // Validated now, so a bad option fails where the trainer is made; described again at each Fit, because
        // the options stay the caller's and may change until then (the sample sets the cancellation token last).
        RunDescription.From(options);
        this.options = options;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var run = RunDescription.From(options);
        InputSchemaCheck.Check(inputSchema, run.LabelColumn, run.FeatureColumn);
        // ML.NET keeps SchemaShape.Column's constructor internal, so let its own estimators describe the
        // new columns: Score is a known-size float vector with no annotations (as a custom mapping to
        // ScoreShape declares it; never fitted), and PredictedLabel has exactly the label's key type and
        // key values (as CopyColumns makes).
        var transforms = new MLContext().Transforms;
        return transforms.CustomMapping<NoColumns, ScoreShape>((_, _) => { }, contractName: null)
            .Append(transforms.CopyColumns(ScoringPipeline.PredictedLabelColumnName, run.LabelColumn))
            .GetOutputSchema(inputSchema);
    }

    /// <summary>Trains the network on <paramref name="input"/> and returns the scoring transformer.</summary>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">
    /// TorchSharp's native library is missing (the message names the package to add for this OS), or an input is not what the trainer needs.
    /// </exception>
    /// <exception cref="TrainingDivergedException">The loss stopped being finite.</exception>
    /// <exception cref="InsufficientMemoryException">
    /// Training the planned network on the CPU would need more memory than the process can use (checked
    /// before the data is read; the message gives the estimate and the largest layer).
    /// </exception>
    public BlockSparseModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // First, so a missing native package is named before anything reaches into TorchSharp.
        Torch.TorchNatives.EnsureLoaded();
        var run = RunDescription.From(options);
        var original = input;
        var decoding = EncodedImages(ref run, ref input);
        var (label, features, classes, featureLength) = InputSchemaCheck.Check(input.Schema, run.LabelColumn, run.FeatureColumn);
        // Checked now so a wrong shape fails before training (the MLP reads flat features and only checks it).
        var imageShape = ImageShapeCheck.Resolve(run.ImageShape, features, featureLength);
        var plan = run.Plan(featureLength, classes, imageShape, features.Name);
        if (run.InitialWeights is { } initialWeights)
            InitialWeightsCheck.Check(initialWeights, plan);
        // Memory and checkpoints are checked before minutes go into reading the data.
        using var engine = TrainingEngine.Open(run, plan);
        using var data = TrainingRows.Prepare(run, input, label, features, featureLength, classes, engine.Device, digest: engine.NeedsDataDigest);
        engine.Fingerprint(data.Train.Count, data.Validation?.Count ?? 0, data.Digest, featureLength, classes, data.Streaming);

        using var channel = (run.LogContext as IChannelProvider)?.Start(nameof(BlockSparseTrainer));
        channel?.Info(MessageSensitivity.None, $"BlockSparse: training {data.Train.Count} rows ({featureLength} features, {classes} classes) on {engine.Device.type}"
            + (data.Validation is { } held ? $"; validating on {held.Count} rows" : "")
            + (data.Streaming is { } streaming ? $"; streamed from the data view every epoch ({streaming})" : "")
            + (data.SkippedMissingLabels > 0 ? $"; skipped {data.SkippedMissingLabels} rows with a missing label" : "")
            + (engine.ResumeNote is { } note ? "; " + note : ""));
        using var trained = engine.Train(data.Train, data.Validation, summary =>
        {
            channel?.Info(MessageSensitivity.None, summary.ToString());
            run.Progress?.Report(summary);
        });

        var network = trained.Network.Report();
        // The run's cost, as the epochs were trained (a λ2 search pays for its candidates until they retire).
        var report = new SparsityReport(network.Layers)
        {
            RunTrainingFlops = trained.History.Sum(h => h.TrainingFlops),
            RunDenseTrainingFlops = network.DenseTrainingFlopsPerExample * data.Train.Count * trained.History.Count,
        };
        var onnx = OnnxExporter.Export(trained.Network, run.FeatureColumn);
        var scoring = ScoringPipeline.Build(onnx, run.FeatureColumn, label, classes, original, decoding);
        var inputCheck = new ScoringInputCheck(options.FeatureColumnName, featureLength, run.LabelColumn, classes, LabelKeys.Values(label))
        {
            EncodedImages = decoding is not null,
        };
        return new BlockSparseModel(scoring, report, trained.History, onnx, inputCheck, trained.KeptEpoch)
        {
            // Only the dense baseline has dense weights to give; the other methods exist not to build them.
            // A Vision Transformer's encoder has no place in that per-layer list (nor can InitialWeights take it).
            DenseWeights = run.Method == BlockSparseMethod.Dense && run.Architecture != NetworkArchitecture.VisionTransformer ? trained.DenseWeights() : null,
        };
    }

    // A feature column of encoded image bytes: decode it (and the validation set's) into pixels with ML.NET transforms,
    // which the saved model then runs in front of the network; the run reads the pixel column from here on.
    private static IEstimator<ITransformer>? EncodedImages(ref RunDescription run, ref IDataView input)
    {
        if (input.Schema.GetColumnOrNull(run.FeatureColumn) is not { } column || !EncodedImageInput.IsEncodedImages(column.Type))
            return null;
        var shape = run.ImageShape ?? EncodedImageInput.DefaultShape(input, column);
        var decoding = EncodedImageInput.Decoding(new MLContext(), run.FeatureColumn, shape);
        var decoder = decoding.Fit(input);
        input = decoder.Transform(input);
        run = run with
        {
            FeatureColumn = EncodedImageInput.PixelColumnName,
            ImageShape = shape,
            ValidationSet = run.ValidationSet is { } set ? decoder.Transform(set) : null,
        };
        return decoding;
    }

    // The shapes GetOutputSchema describes Score with: no input column, and one float vector of known
    // size (the size itself is not part of a SchemaShape).
    private sealed class NoColumns;

    private sealed class ScoreShape
    {
        [VectorType(1)]
        public float[] Score { get; set; } = [];
    }
}
