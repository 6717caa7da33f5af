using Microsoft.ML.BlockSparse.Checkpoints;
using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.MLNet;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Training;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Trains a multiclass classifier whose layers are Kronecker-factored, <c>W = Σ_i (S ⊙ A_i) ⊗ B_i</c>:
/// training touches only the small factors, and an L1 penalty on the block gates <c>S</c> makes whole
/// blocks of the weights exactly zero. Create it with
/// <c>mlContext.MulticlassClassification.Trainers.BlockSparse(...)</c>.
/// </summary>
/// <remarks>
/// Input: a key-typed label column and a known-size <see cref="float"/> vector feature column. Output
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
        // new columns: Score is a known-size float vector (as Concatenate of the features makes), and
        // PredictedLabel has exactly the label's key type and key values (as CopyColumns makes).
        var transforms = new MLContext().Transforms;
        return transforms.Concatenate(OnnxExporter.ScoreName, run.FeatureColumn)
            .Append(transforms.CopyColumns(ScoringPipeline.PredictedLabelColumnName, run.LabelColumn))
            .GetOutputSchema(inputSchema);
    }

    /// <summary>Trains the network on <paramref name="input"/> and returns the scoring transformer.</summary>
    /// <exception cref="OperationCanceledException"><see cref="Options.CancellationToken"/> was cancelled.</exception>
    /// <exception cref="TrainingDivergedException">The loss stopped being finite.</exception>
    /// <exception cref="InsufficientMemoryException">
    /// Training the planned network on the CPU would need more memory than the process can use (checked
    /// before the data is read; the message gives the estimate and the largest layer).
    /// </exception>
    public BlockSparseModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var run = RunDescription.From(options);
        var (label, features, classes, featureLength) = InputSchemaCheck.Check(input.Schema, run.LabelColumn, run.FeatureColumn);
        // Checked now so a wrong shape fails before training (the MLP reads flat features and only checks it).
        var imageShape = ImageShapeCheck.Resolve(run.ImageShape, features, featureLength);
        var plan = run.Plan(featureLength, classes, imageShape, features.Name);
        if (run.InitialWeights is { } initialWeights)
            InitialWeightsCheck.Check(initialWeights, plan);
        var device = ComputeDeviceResolver.Resolve(run.Device);
        // Refused here, before the data is read, rather than by the OOM killer or a native abort later.
        // Host memory bounds a CPU run only: a GPU's memory is its own, and CUDA reports running out.
        if (device.type == DeviceType.CPU)
        {
            MemoryEstimate.Of(plan).Require(run.Training.BatchSize, run.EarlyStoppingPatience > 0,
                GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, run.Rank);
        }
        // A bad checkpoint or directory is reported before minutes go into reading the data.
        using var resume = CheckpointTarget.OpenResume(run);
        var checkpoints = CheckpointTarget.For(run, resume);
        using var data = TrainingRows.Prepare(run, input, label, features, featureLength, classes, device,
            digest: checkpoints is not null || resume is not null);
        var fingerprint = RunFingerprint.Of(run, plan, data.Train.Count, data.Validation?.Count ?? 0, data.Digest, featureLength, classes);
        if (resume is not null)
            RunFingerprint.RequireMatch(resume.Info.Fingerprint, fingerprint, resume.Path!);

        using var channel = (run.LogContext as IChannelProvider)?.Start(nameof(BlockSparseTrainer));
        channel?.Info(MessageSensitivity.None, $"BlockSparse: training {data.Train.Count} rows ({featureLength} features, {classes} classes) on {device.type}"
            + (data.Validation is { } held ? $"; validating on {held.Count} rows" : "")
            + (data.SkippedMissingLabels > 0 ? $"; skipped {data.SkippedMissingLabels} rows with a missing label" : "")
            + (resume is not null ? $"; resuming after epoch {resume.Info.CompletedEpochs} from {resume.Path}" : ""));

        using var network = new BlockSparseNetwork(plan, run.Training.Seed);
        network.to(device);
        if (run.InitialWeights is { } initial)
            network.InitializeFrom(initial);
        var control = new RunControl
        {
            Cancellation = run.Cancellation,
            Checkpoints = checkpoints,
            Resume = resume,
            Validation = data.Validation,
            EarlyStoppingPatience = run.EarlyStoppingPatience,
            Fingerprint = fingerprint,
        };
        var history = NetworkTrainer.Train(network, data.Train.Features, data.Train.Labels, run.Training, summary =>
        {
            channel?.Info(MessageSensitivity.None, summary.ToString());
            run.Progress?.Report(summary);
        }, control);

        var report = network.Report();
        var onnx = OnnxExporter.Export(network, run.FeatureColumn);
        var scoring = ScoringPipeline.Build(onnx, run.FeatureColumn, label, classes, input);
        var inputCheck = new ScoringInputCheck(run.FeatureColumn, featureLength, run.LabelColumn, classes, LabelKeys.Values(label));
        return new BlockSparseModel(scoring, report, history, onnx, inputCheck, EarlyStopping.KeptEpoch(history, run.EarlyStoppingPatience > 0))
        {
            // Only the dense baseline has dense weights to give; the other methods exist not to build them.
            DenseWeights = run.Method == BlockSparseMethod.Dense ? network.Layers.Select(DenseLayerWeightsOf).ToList() : null,
        };
    }

    private static DenseLayerWeights DenseLayerWeightsOf(Layers.IBlockSparseLayer layer)
    {
        using var scope = NewDisposeScope();
        var hostWeight = layer.MaterializeWeight().detach().to(CPU).contiguous();
        var hostBias = layer.Bias.detach().to(CPU).contiguous();
        return new DenseLayerWeights(hostWeight.data<float>().ToArray(), hostBias.data<float>().ToArray());
    }
}
