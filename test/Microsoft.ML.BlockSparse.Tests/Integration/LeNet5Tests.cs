using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Options.Architecture = LeNet5: planning, report, ONNX export, training through ML.NET, save/load.</summary>
[Trait("Category", "Integration")]
public class LeNet5Tests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private static readonly ImageShape Mnist = new(1, 28, 28);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static PlanRequest Request(BlockSparseMethod method, int rank = 4)
        => new(method, rank, null, null, null, false);

    [Fact]
    public void DenseLeNet5HasTheTextbookSizesAndCosts()
    {
        var plan = LeNet5Plan.Plan(Mnist, 10, Request(BlockSparseMethod.Dense));
        using var network = new BlockSparseNetwork(plan, 1);
        var report = network.Report();

        Assert.Equal(5, report.Layers.Count);
        Assert.Equal(61_706, report.DenseParameters);
        Assert.Equal(61_706, report.TrainableParameters);
        Assert.Equal([156L, 2_416, 48_120, 10_164, 850], report.Layers.Select(l => l.DenseParameters));
        // conv1: 28x28 outputs of 6x1x5x5; conv2: 10x10 outputs of 16x6x5x5 (a multiply-add is 2 FLOPs).
        Assert.Equal(2L * 28 * 28 * 6 * 25, report.Layers[0].DenseInferenceFlopsPerExample);
        Assert.Equal(2L * 10 * 10 * 16 * 6 * 25, report.Layers[1].DenseInferenceFlopsPerExample);
        Assert.Equal([784, 6 * 14 * 14, 400, 120, 84], report.Layers.Select(l => l.InFeatures));
        Assert.Equal(400, plan.Linear[0].InFeatures);
        Assert.All(report.Layers, l => Assert.Equal("Method is Dense", l.DenseReason));
    }

    [Fact]
    public void KroneckerLeNet5FactorsWhatTheRuleSaysAndReportsConvRowsAgainstDense()
    {
        var plan = LeNet5Plan.Plan(Mnist, 10, Request(BlockSparseMethod.Kronecker, rank: 2));
        using var network = new BlockSparseNetwork(plan, 1);
        var report = network.Report();

        Assert.Equal(61_706, report.DenseParameters);
        // The cheapest channel blocks: one output channel per block row, so the grid is as tall as the rank allows.
        Assert.Equal("1x1x5x5", report.Layers[0].BlockShape);
        Assert.Equal("1x6x5x5", report.Layers[1].BlockShape);
        Assert.All(report.Layers.Take(2), l => Assert.True(l.Factored));
        Assert.All(report.Layers.Take(2), l => Assert.True(l.TrainingFlopsPerExample < l.DenseTrainingFlopsPerExample));
        Assert.True(report.TrainableParameters < report.DenseParameters / 10, $"{report.TrainableParameters} parameters");
        var table = report.ToTable();
        Assert.Contains("1x6x5x5", table);
        Assert.Contains("784→4704", table);
        // The layers λ1 and pruning act on include both factored convolutions.
        Assert.Equal(2, network.GatedBlocks.OfType<KroneckerConv2d>().Count());
    }

    [Fact]
    public void GroupLassoLeNet5PenalisesTheLinearLayersAndTrainsTheConvolutionsDense()
    {
        var plan = LeNet5Plan.Plan(Mnist, 10, Request(BlockSparseMethod.GroupLasso));
        Assert.All(plan.Convolutions, c => Assert.False(c.Factored));
        Assert.All(plan.Convolutions, c => Assert.StartsWith("Method is GroupLasso", c.DenseReason));
        Assert.All(plan.Linear, l => Assert.False(l.Factored));
        Assert.NotNull(plan.Linear[0].PenaltyBlock);
        using var network = new BlockSparseNetwork(plan, 1);
        Assert.Equal(3, network.GroupLassoLayers.Count() + (plan.Linear.Count(l => l.PenaltyBlock is null)));
        Assert.Empty(network.GatedBlocks);
    }

    [Fact]
    public void OnnxScoresEqualTheLeNet5Forward()
    {
        // Convolution 1 dense (given no block), convolution 2 factored with zero blocks: both conv kinds, pooling and reshapes.
        var plan = LeNet5Plan.Plan(new ImageShape(2, 16, 14), 3, Request(BlockSparseMethod.Kronecker, rank: 2) with
        {
            PerLayerBlocks = [null, new BlockShape(4, 3), null, new BlockShape(12, 6), null],
        });
        plan = plan with { Convolutions = [plan.Convolutions[0] with { Block = null, DenseReason = "test" }, plan.Convolutions[1]] };
        using var network = new BlockSparseNetwork(plan, 3);
        Assert.IsType<DenseConv2d>(network.Convolutions[0]);
        var conv = Assert.IsType<KroneckerConv2d>(network.Convolutions[1]);
        using (no_grad())
            using (var keep = Scalars.Of(0.3))
                conv.Gate.copy_(randn(conv.Gate.shape).mul(rand(conv.Gate.shape).gt(keep)));
        using var input = randn(4, 2 * 16 * 14);
        OnnxScores.AssertEqualToNetwork(network, input);
    }

    [Fact]
    public void KroneckerLeNet5TrainsOnMnistAndReloadsWithIdenticalScores()
    {
        var ml = new MLContext(1);
        var train = IdxDataset.ToDataView(ml, mnist.Train.Take(4000).ToList());
        var options = MnistSlice.QuickOptions(epochs: 3);
        options.Architecture = NetworkArchitecture.LeNet5;
        options.ImageShape = Mnist;
        options.Rank = 2;
        // A short run on a slice: a larger step than the default gets the factored convolutions going in 3 epochs.
        options.LearningRate = 1e-2;
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(train);
        var test = IdxDataset.ToDataView(ml, mnist.Test);
        var scored = model.Transform(test);
        var accuracy = ml.MulticlassClassification.Evaluate(scored).MicroAccuracy;
        Assert.True(accuracy > 0.8, $"LeNet5 test accuracy {accuracy:P2}");
        var report = model.LastTransformer.Report;
        Assert.Equal(61_706, report.DenseParameters);
        Assert.Equal("1x1x5x5", report.Layers[0].BlockShape);

        var path = temp.File("lenet.zip");
        ml.Model.Save(model, train.Schema, path);
        var fresh = new MLContext(7);
        var loaded = fresh.Model.Load(path, out _);
        var before = scored.GetColumn<float[]>("Score").ToList();
        var after = loaded.Transform(IdxDataset.ToDataView(fresh, mnist.Test)).GetColumn<float[]>("Score").ToList();
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
            Assert.Equal(before[i], after[i]);
    }

    [Fact]
    public void LeNet5WithoutAnImageShapeNamesBothWaysToGiveIt()
    {
        var ml = new MLContext(1);
        var options = MnistSlice.QuickOptions(epochs: 1);
        options.Architecture = NetworkArchitecture.LeNet5;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(ml, options));
        Assert.Contains("ImageShape", error.Message);
        Assert.Contains("ExtractPixels", error.Message);
    }

    [Fact]
    public void LeNet5WithAShapeThatIsNotTheFeatureLengthSaysSo()
    {
        var ml = new MLContext(1);
        var options = MnistSlice.QuickOptions(epochs: 1);
        options.Architecture = NetworkArchitecture.LeNet5;
        options.ImageShape = new ImageShape(1, 28, 27);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(ml, options));
        Assert.Contains("1x28x27", error.Message);
        Assert.Contains("784", error.Message);
    }

    [Fact]
    public void LeNet5RefusesImagesTooSmallForItsStages()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => LeNet5Plan.Plan(new ImageShape(1, 8, 98), 10, Request(BlockSparseMethod.Kronecker)));
        Assert.Contains("at least 12x12", error.Message);
    }

    [Fact]
    public void LeNet5LayerBlockShapesNeedFiveEntries()
    {
        var options = new BlockSparseTrainer.Options { Architecture = NetworkArchitecture.LeNet5, LayerBlockShapes = [null, null, null] };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => RunDescription.From(options));
        Assert.Contains("LeNet5 needs 5", error.Message);
    }

    private void Fit(MLContext ml, BlockSparseTrainer.Options options)
        => ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(IdxDataset.ToDataView(ml, mnist.Train.Take(200).ToList()));
}
