using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The Dense and GroupLasso baselines, and λ2's search, through the same trainer.</summary>
[Trait("Category", "Integration")]
public class BaselineTests(MnistSlice mnist) : IClassFixture<MnistSlice>
{
    [Fact]
    public void GroupLassoDrivesUnusedBlocksToExactlyZero()
    {
        // The target uses only the right half of the input groups: the penalty must zero every block of
        // the left half exactly, and pruning must leave the used ones alone.
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layer = new DenseLinear("lasso", 12, 8, "test", generator, new BlockShape(2, 3));
        var truth = randn([8, 12], generator: generator);
        truth[TensorIndex.Colon, TensorIndex.Slice(0, 6)] = zeros(8, 6);
        using var optimizer = new ProximalAdam(layer.parameters());
        for (int step = 0; step < 800; step++)
        {
            using var stepScope = NewDisposeScope();
            var x = randn([64, 12], generator: generator);
            var loss = layer.call(x).sub(x.matmul(truth.t())).pow(Scalars.Two).mean();
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step(0.01);
            ProximalPenalties.WeightBlocks([layer], optimizer, 0.01, 0.02);
        }
        layer.PruneBlocks(1e-3, null);

        var weight = layer.Weight.detach();
        Assert.Equal(0, weight[TensorIndex.Colon, TensorIndex.Slice(0, 6)].abs().sum().item<float>());
        var report = layer.Describe(0);
        Assert.Equal(16, report.Blocks);
        Assert.Equal(8, report.ZeroBlocks);
        Assert.Equal(report.DenseParameters, report.TrainableParameters);
    }

    [Fact]
    public void GroupLassoMethodReachesTheTargetSparsityWithDenseTrainingCost()
    {
        var options = Options(BlockSparseMethod.GroupLasso);
        options.TargetBlockSparsity = 0.5;
        var (model, accuracy) = Train(options);

        var report = model.Report;
        // Reaches 85.4 % on this code; see MnistSlice.AccuracyMargin.
        Assert.True(accuracy >= 0.80, $"accuracy {accuracy:P2}");
        // Pruning to the target zeroes exactly that share of each penalised layer's blocks, not one more or less.
        foreach (var layer in report.Layers.Where(l => l.Blocks > 0))
            Assert.Equal((long)Math.Round(0.5 * layer.Blocks), layer.ZeroBlocks);
        Assert.Equal(report.DenseParameters, report.TrainableParameters);
        Assert.Equal(report.DenseTrainingFlopsPerExample, report.TrainingFlopsPerExample);
        Assert.True(report.InferenceFlopsPerExample < report.DenseInferenceFlopsPerExample);
        // Same block shapes as the Kronecker plan would use.
        Assert.Equal(["dense (10x56)", "dense (5x50)"], report.Layers.Take(2).Select(l => $"dense ({l.BlockShape})"));
        Assert.Equal(report.DenseTrainingFlopsPerExample * mnist.Train.Count, model.History[0].TrainingFlops);
    }

    [Fact]
    public void DenseMethodTrainsThePlainNetwork()
    {
        var (model, accuracy) = Train(Options(BlockSparseMethod.Dense));
        // Reaches 92.6 % on this code; see MnistSlice.AccuracyMargin.
        Assert.True(accuracy >= 0.87, $"accuracy {accuracy:P2}");
        Assert.All(model.Report.Layers, l => Assert.Equal("Method is Dense", l.DenseReason));
        Assert.Equal(0, model.Report.Blocks);
        Assert.Equal(model.Report.DenseParameters, model.Report.TrainableParameters);
    }

    [Fact]
    public void SearchDecidesAfterTheDecisionEpochAndThenTrainsOnlyTheSurvivor()
    {
        var options = Options(BlockSparseMethod.Kronecker);
        options.SearchBlockShapes = true;
        options.Epochs = 3;
        Assert.Equal(1, options.ShapeSearchDecisionEpochs);   // the documented default
        var (model, _) = Train(options);

        var first = model.History[0];
        var last = model.History[^1];
        Assert.NotNull(first.BlockShapes);
        Assert.Contains("shapes", first.ToString());
        // Decided at the end of epoch 1: one shape per layer from then on, each epoch at the survivors' cost.
        Assert.All(model.History, e => Assert.DoesNotContain(e.BlockShapes!, s => s?.Contains('+') == true));
        Assert.True(model.History[1].TrainingFlops < first.TrainingFlops / 2, $"training FLOPs {first.TrainingFlops} then {model.History[1].TrainingFlops}");
        Assert.Equal(model.History[1].TrainingFlops, last.TrainingFlops);
        Assert.Equal(model.Report.ChosenBlockShapes, last.BlockShapes);
        // The report's per-epoch cost is the survivors'; the whole run's cost includes the search's first epoch.
        Assert.Equal(model.History.Sum(e => e.TrainingFlops), model.Report.RunTrainingFlops);
        Assert.True(model.Report.RunTrainingFlops > model.Report.TrainingFlopsPerExample * mnist.Train.Count * 3);
        Assert.Equal(model.Report.DenseTrainingFlopsPerExample * mnist.Train.Count * 3, model.Report.RunDenseTrainingFlops);
        Assert.Contains("runTrainingFlops", model.Report.ToJson());
        Assert.Contains("whole run", model.Report.ToTable());
        // The trained, pruned model's ONNX does exactly the report's inference FLOPs.
        using var onnx = new MemoryStream();
        model.SaveOnnx(onnx);
        Assert.Equal(model.Report.InferenceFlopsPerExample, OnnxFlops.Total(onnx.ToArray()));
        Assert.True(model.Report.InferenceFlopsPerExample < model.Report.DenseInferenceFlopsPerExample);
        Assert.Equal(3, model.Report.Layers[0].CandidateBlockShapes!.Count);
        Assert.DoesNotContain("+", model.Report.Layers[0].BlockShape);
        Assert.Contains("chosenBlockShapes", model.Report.ToJson());
    }

    private BlockSparseTrainer.Options Options(BlockSparseMethod method)
    {
        var options = MnistSlice.QuickOptions(epochs: 3);
        options.Method = method;
        return options;
    }

    private (BlockSparseModel Model, double Accuracy) Train(BlockSparseTrainer.Options options)
    {
        var ml = new MLContext(1);
        var train = IdxDataset.ToDataView(ml, mnist.Train);
        var chain = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options)).Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(chain.Transform(IdxDataset.ToDataView(ml, mnist.Test)));
        return (chain.LastTransformer, metrics.MicroAccuracy);
    }
}
