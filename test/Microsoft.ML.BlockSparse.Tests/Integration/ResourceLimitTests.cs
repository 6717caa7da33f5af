using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>A network that cannot fit in memory is refused with the figures, before anything is allocated.</summary>
[Trait("Category", "Integration")]
public class ResourceLimitTests
{
    private sealed class Row
    {
        public uint Label { get; set; }
        [VectorType(8)] public float[] Features { get; set; } = new float[8];
    }

    private static IDataView Data(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => new Row { Label = (uint)(i % 2), Features = [i, 1, 2, 3, 4, 5, 6, 7] }).ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    [Theory]
    [InlineData(100_000_000)]
    [InlineData(int.MaxValue)]   // once a native allocation failure that ended the process
    public void ARankThatCannotFitIsRefusedWithTheEstimate(int rank)
    {
        var ml = new MLContext(1);
        var options = new BlockSparseTrainer.Options { HiddenLayers = [8], BlockShape = new BlockShape(2, 2), Rank = rank, Epochs = 1, Device = ComputeDevice.Cpu };
        var e = Assert.Throws<InsufficientMemoryException>(() => ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(Data(ml)));
        Assert.StartsWith("The planned network needs about ", e.Message);
        Assert.Contains("more than the ", e.Message);
        Assert.Contains($"8->8 (block 2x2, rank {rank})", e.Message);
        Assert.Contains($"Lower BlockSparseTrainer.Options.Rank (it is {rank})", e.Message);
    }

    [Fact]
    public void TheEstimateCountsTheParametersTheNetworkHas()
    {
        // The estimate is only a guard if it counts what will be built: compare with a built network.
        foreach (var (plan, rank) in new[]
        {
            (NetworkPlan.Mlp(LayerPlan.ForMlp(784, [300, 100], 10, 4, null, null)), 4),
            (NetworkPlan.Mlp(LayerPlan.ForMlp(64, [32], 4, 2, new BlockShape(4, 8), null)), 2),
            (LeNet5Plan.Plan(new ImageShape(1, 28, 28), 10, new PlanRequest(BlockSparseMethod.Kronecker, 2, null, null, null, false)), 2),
        })
        {
            using var network = new BlockSparseNetwork(plan, seed: 1);
            Assert.Equal(network.parameters().Sum(p => p.numel()), MemoryEstimate.Of(plan).ParameterCount);
        }
    }

    [Fact]
    public void TheEstimateGrowsWithTheBatchAndTheBestWeightsCopy()
    {
        var estimate = MemoryEstimate.Of(NetworkPlan.Mlp(LayerPlan.ForMlp(784, [300, 100], 10, 4, null, null)));
        Assert.True(estimate.TrainingBytes(256, false) > estimate.TrainingBytes(64, false));
        Assert.Equal(estimate.ParameterCount * 4, estimate.TrainingBytes(64, true) - estimate.TrainingBytes(64, false));
        // The default MNIST network is far from any limit: a few megabytes.
        Assert.InRange(estimate.TrainingBytes(128, true), 1e5, 1e8);
    }

    [Fact]
    public void TheSampleSaysSoInOneLine()
    {
        var (exitCode, output) = SampleApp.RunWithExitCode("train", "--rank", "2147483647", "--block", "2x2", "--train-rows", "100", "--test-rows", "10", "--epochs", "1");
        Assert.Equal(1, exitCode);
        var error = Assert.Single(output.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("The planned network needs about ", error);
        Assert.DoesNotContain("   at ", output);
    }
}
