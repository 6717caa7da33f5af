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
    public BlockSparseModel Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (label, features, classes, featureLength) = InputSchemaCheck.Check(input.Schema, options.LabelColumnName, options.FeatureColumnName);
        // The MLP reads flat features; checked now so a wrong shape fails before training, not in a later architecture.
        var imageShape = ImageShapeCheck.Resolve(options.ImageShape, features, featureLength);
        var plan = PlanLayers(featureLength, classes);
        var device = ComputeDeviceResolver.Resolve(options.Device);
        var data = TrainingSet.Read(input, label, features, featureLength);

        var settings = new TrainingSettings(options.Epochs, options.BatchSize, options.LearningRate, options.LearningRateSchedule,
            new L1Schedule(options.L1Start, options.L1Increment, options.L1EveryEpochs),
            options.PruneEveryEpochs, options.PruneThreshold, (ulong)(uint)options.Seed);

        using var channel = (options.LogContext as IChannelProvider)?.Start(nameof(BlockSparseTrainer));
        channel?.Info(MessageSensitivity.None, $"BlockSparse: training {data.Rows} rows ({featureLength} features, {classes} classes) on {device.type}"
            + (data.SkippedMissingLabels > 0 ? $"; skipped {data.SkippedMissingLabels} rows with a missing label" : ""));

        using var network = new BlockSparseNetwork(plan, options.Rank, settings.Seed);
        network.to(device);
        // On a GPU .to() makes a new tensor: the host copies need disposing too (it is safe when they are the same).
        using var hostX = tensor(data.Features, [data.Rows, featureLength]);
        using var hostY = tensor(data.Labels);
        using var x = hostX.to(device);
        using var y = hostY.to(device);
        var history = NetworkTrainer.Train(network, x, y, settings, summary =>
        {
            channel?.Info(MessageSensitivity.None, summary.ToString());
            options.Progress?.Report(summary);
        });

        var report = network.Report();
        var onnx = OnnxExporter.Export(network, options.FeatureColumnName);
        var scoring = ScoringPipeline.Build(onnx, options.FeatureColumnName, label, classes, input);
        return new BlockSparseModel(scoring, report, history, onnx, classes, featureLength);
    }

    internal IReadOnlyList<LayerPlan> PlanLayers(int featureLength, int classes)
    {
        var plan = LayerPlan.ForMlp(featureLength, options.HiddenLayers, classes, options.Rank, options.BlockShape, options.LayerBlockShapes);
        if (options.LayerBlockShapes is not null)
        {
            var misfit = plan.Select((p, i) => (p, i)).FirstOrDefault(t => t.p.Block is null);
            if (misfit.p is not null)
            {
                throw new ArgumentOutOfRangeException(nameof(Options.LayerBlockShapes),
                    $"BlockSparseTrainer.Options.LayerBlockShapes[{misfit.i}] is {options.LayerBlockShapes[misfit.i]}, which does not tile layer {misfit.i} "
                    + $"({misfit.p.OutFeatures} out x {misfit.p.InFeatures} in): the block rows must divide {misfit.p.OutFeatures} and the columns {misfit.p.InFeatures}.");
            }
        }
        else if (options.BlockShape is { } shared && plan.All(p => p.Block is null))
        {
            var sizes = string.Join(", ", plan.Select(p => $"{p.OutFeatures}x{p.InFeatures}"));
            throw new ArgumentOutOfRangeException(nameof(Options.BlockShape),
                $"BlockSparseTrainer.Options.BlockShape {shared} tiles none of the layers (out x in: {sizes}); every layer would be dense. "
                + "Choose rows that divide a layer's output size and columns that divide its input size, or leave BlockShape null to choose per layer.");
        }
        return plan;
    }
}
