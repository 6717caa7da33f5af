using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.MLNet;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Regularization;
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
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        InputSchemaCheck.Check(inputSchema, options.LabelColumnName, options.FeatureColumnName);
        // ML.NET keeps SchemaShape.Column's constructor internal, so let its own estimators describe the
        // new columns: Score is a known-size float vector (as Concatenate of the features makes), and
        // PredictedLabel has exactly the label's key type and key values (as CopyColumns makes).
        var transforms = new MLContext().Transforms;
        return transforms.Concatenate(OnnxExporter.ScoreName, options.FeatureColumnName)
            .Append(transforms.CopyColumns(ScoringPipeline.PredictedLabelColumnName, options.LabelColumnName))
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
        var (label, features, classes, featureLength) = InputSchemaCheck.Check(input.Schema, options.LabelColumnName, options.FeatureColumnName);
        // Checked now so a wrong shape fails before training (the MLP reads flat features and only checks it).
        var imageShape = ImageShapeCheck.Resolve(options.ImageShape, features, featureLength);
        var plan = PlanNetwork(featureLength, classes, imageShape, features.Name);
        if (options.InitialWeights is { } initialWeights)
        {
            if (plan.Convolutions.Count > 0)
            {
                throw new ArgumentOutOfRangeException(nameof(Options.InitialWeights),
                    $"BlockSparseTrainer.Options.InitialWeights is set, but Architecture {options.Architecture} has convolutions, which cannot start from dense linear weights; use it with the Mlp architecture.");
            }
            InitialWeightsCheck.Check(initialWeights, plan.Linear);
        }
        var device = ComputeDeviceResolver.Resolve(options.Device);
        // Refused here, before the data is read, rather than by the OOM killer or a native abort later.
        // Host memory bounds a CPU run only: a GPU's memory is its own, and CUDA reports running out.
        if (device.type == DeviceType.CPU)
        {
            MemoryEstimate.Of(plan, options.Rank).Require(options.BatchSize, options.EarlyStoppingPatience > 0,
                GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, options.Rank);
        }
        // A bad checkpoint or directory is reported before minutes go into reading the data.
        using var resume = OpenResumeCheckpoint();
        var checkpoints = CheckpointTarget(resume);
        using var data = TrainingData.Prepare(options, input, label, features, featureLength, classes, device,
            digest: checkpoints is not null || resume is not null);
        var fingerprint = RunFingerprint.Of(options, plan, data, featureLength, classes);
        if (resume is not null)
            RunFingerprint.RequireMatch(resume.Info.Fingerprint, fingerprint, resume.Path!);

        var settings = new TrainingSettings(options.Epochs, options.BatchSize, options.LearningRate, options.LearningRateSchedule,
            new PenaltySchedule(options.L1Start, options.L1Increment, options.L1EveryEpochs),
            options.PruneEveryEpochs, options.PruneThreshold, (ulong)(uint)options.Seed)
        {
            Lambda2 = new PenaltySchedule(options.ShapeSearchLambdaStart, options.ShapeSearchLambdaIncrement, options.ShapeSearchLambdaEveryEpochs),
            CandidateRetireFraction = options.CandidateRetireFraction,
            GroupLassoLambda = options.GroupLassoLambda,
            GroupLassoPruneThreshold = options.GroupLassoPruneThreshold,
            TargetBlockSparsity = options.TargetBlockSparsity,
        };

        using var channel = (options.LogContext as IChannelProvider)?.Start(nameof(BlockSparseTrainer));
        channel?.Info(MessageSensitivity.None, $"BlockSparse: training {data.Train.Count} rows ({featureLength} features, {classes} classes) on {device.type}"
            + (data.Validation is { } held ? $"; validating on {held.Count} rows" : "")
            + (data.SkippedMissingLabels > 0 ? $"; skipped {data.SkippedMissingLabels} rows with a missing label" : "")
            + (resume is not null ? $"; resuming after epoch {resume.Info.CompletedEpochs} from {resume.Path}" : ""));

        using var network = new BlockSparseNetwork(plan, options.Rank, settings.Seed);
        network.to(device);
        if (options.InitialWeights is { } initial)
            network.InitializeFrom(initial);
        var control = new RunControl
        {
            Cancellation = options.CancellationToken,
            Checkpoints = checkpoints,
            Resume = resume,
            Validation = data.Validation,
            EarlyStoppingPatience = options.EarlyStoppingPatience,
            Fingerprint = fingerprint,
        };
        var history = NetworkTrainer.Train(network, data.Train.Features, data.Train.Labels, settings, summary =>
        {
            channel?.Info(MessageSensitivity.None, summary.ToString());
            options.Progress?.Report(summary);
        }, control);

        var report = network.Report();
        var onnx = OnnxExporter.Export(network, options.FeatureColumnName);
        var scoring = ScoringPipeline.Build(onnx, options.FeatureColumnName, label, classes, input);
        var inputCheck = new ScoringInputCheck(options.FeatureColumnName, featureLength, options.LabelColumnName, classes, LabelKeys.Values(label));
        return new BlockSparseModel(scoring, report, history, onnx, inputCheck, EarlyStopping.KeptEpoch(history, options.EarlyStoppingPatience > 0))
        {
            // Only the dense baseline has dense weights to give; the other methods exist not to build them.
            DenseWeights = options.Method == BlockSparseMethod.Dense ? network.Layers.Select(DenseLayerWeightsOf).ToList() : null,
        };
    }

    private static DenseLayerWeights DenseLayerWeightsOf(Layers.IBlockSparseLayer layer)
    {
        using var scope = NewDisposeScope();
        var hostWeight = layer.MaterializeWeight().detach().to(CPU).contiguous();
        var hostBias = layer.Bias.detach().to(CPU).contiguous();
        return new DenseLayerWeights(hostWeight.data<float>().ToArray(), hostBias.data<float>().ToArray());
    }

    /// <summary>The network for <see cref="Options.Architecture"/>: an MLP, or LeNet5 on <paramref name="imageShape"/>.</summary>
    internal NetworkPlan PlanNetwork(int featureLength, int classes, ImageShape? imageShape, string featureColumn)
    {
        if (options.Architecture == NetworkArchitecture.Mlp)
            return NetworkPlan.Mlp(PlanLayers(featureLength, classes));
        var image = imageShape ?? throw new ArgumentOutOfRangeException(nameof(Options.ImageShape),
            $"BlockSparseTrainer.Options.Architecture is {options.Architecture}, which reads images, but the image shape is unknown: "
            + $"feature column '{featureColumn}' ({featureLength} values) was not made by ExtractPixels. Set BlockSparseTrainer.Options.ImageShape "
            + "(channels x height x width, for example 1x28x28 for MNIST) or extract the pixels with ExtractPixels.");
        var request = new PlanRequest(options.Method, options.Rank, options.BlockShape, options.LayerBlockShapes, null, options.SearchBlockShapes);
        return LeNet5Plan.Plan(image, classes, request);
    }

    internal IReadOnlyList<LayerPlan> PlanLayers(int featureLength, int classes)
    {
        var request = new PlanRequest(options.Method, options.Rank, options.BlockShape, options.LayerBlockShapes,
            options.CandidateBlockShapes, options.SearchBlockShapes);
        // The shapes are checked against the Kronecker plan: the baselines use the same shapes (GroupLasso's
        // penalty blocks) or none, and a shape that does not fit is a mistake whichever method runs.
        var plan = LayerPlan.ForMlp(featureLength, options.HiddenLayers, classes, request with { Method = BlockSparseMethod.Kronecker });
        if (options.CandidateBlockShapes is not null)
        {
            for (int i = 0; i < plan.Count; i++)
            {
                var misfit = options.CandidateBlockShapes[i].FirstOrDefault(b => !b.Divides(plan[i].InFeatures, plan[i].OutFeatures));
                if (misfit != default)
                {
                    throw new ArgumentOutOfRangeException(nameof(Options.CandidateBlockShapes),
                        $"BlockSparseTrainer.Options.CandidateBlockShapes[{i}] holds {misfit}, which does not tile layer {i} "
                        + $"({plan[i].OutFeatures} out x {plan[i].InFeatures} in): the block rows must divide {plan[i].OutFeatures} and the columns {plan[i].InFeatures}.");
                }
            }
        }
        else if (options.LayerBlockShapes is not null)
        {
            var misfit = plan.Select((p, i) => (p, i)).FirstOrDefault(t => !t.p.Factored && options.LayerBlockShapes[t.i] is not null);
            if (misfit.p is not null)
            {
                throw new ArgumentOutOfRangeException(nameof(Options.LayerBlockShapes),
                    $"BlockSparseTrainer.Options.LayerBlockShapes[{misfit.i}] is {options.LayerBlockShapes[misfit.i]}, which does not tile layer {misfit.i} "
                    + $"({misfit.p.OutFeatures} out x {misfit.p.InFeatures} in): the block rows must divide {misfit.p.OutFeatures} and the columns {misfit.p.InFeatures}.");
            }
        }
        else if (options.BlockShape is { } shared && plan.All(p => !p.Factored))
        {
            var sizes = string.Join(", ", plan.Select(p => $"{p.OutFeatures}x{p.InFeatures}"));
            throw new ArgumentOutOfRangeException(nameof(Options.BlockShape),
                $"BlockSparseTrainer.Options.BlockShape {shared} tiles none of the layers (out x in: {sizes}); every layer would be dense. "
                + "Choose rows that divide a layer's output size and columns that divide its input size, or leave BlockShape null to choose per layer.");
        }
        return options.Method == BlockSparseMethod.Kronecker ? plan : LayerPlan.ForMlp(featureLength, options.HiddenLayers, classes, request);
    }
}
