using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Starting a factored network from trained dense weights (nearest Kronecker product).</summary>
[Trait("Category", "Integration")]
public class NearestKroneckerTests(MnistSlice mnist) : IClassFixture<MnistSlice>
{
    [Fact]
    public void AWeightThatIsAKroneckerSumOfTheLayersRankIsReproducedExactly()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(8);
        var block = new BlockShape(3, 4);
        var weight = kron(randn([2, 5], generator: generator), randn([3, 4], generator: generator))
            .add(kron(randn([2, 5], generator: generator), randn([3, 4], generator: generator)), Scalars.One);   // 6 x 20, rank 2
        var layer = new KroneckerLinear("nkp", 20, 6, block, 2, generator);
        layer.InitializeFrom(weight, tensor(new float[] { 0, 1, 2, 3, 4, 5 }));

        Assert.True(layer.MaterializeWeight().allclose(weight, rtol: 1e-4, atol: 1e-5));
        Assert.Equal(1f, layer.Gate.min().item<float>());
        Assert.Equal(5f, layer.Bias[5].item<float>());
    }

    [Fact]
    public void ALowerRankIsTheBestApproximationAndBothFactorsGetTheSameScale()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(9);
        var weight = randn([8, 12], generator: generator);
        var layer = new KroneckerLinear("nkp", 12, 8, new BlockShape(2, 3), 1, generator);
        layer.InitializeFrom(weight, zeros(8));

        // Rank 1: the error is what the leading singular value leaves, and A and B have equal norms.
        var rearranged = weight.reshape(4, 2, 4, 3).permute(0, 2, 1, 3).reshape(16, 6);
        var singular = linalg.svdvals(rearranged);
        var expectedError = singular.narrow(0, 1, singular.shape[0] - 1).pow(Scalars.Two).sum().sqrt().item<float>();
        Assert.Equal(expectedError, layer.MaterializeWeight().sub(weight).norm().item<float>(), 3);
        Assert.Equal(layer.Left.norm().item<float>(), layer.Right.norm().item<float>(), 3);
    }

    [Fact]
    public void KroneckerRunStartsFromADenseRunsWeights()
    {
        var ml = new MLContext(1);
        var rows = mnist.Train.Take(2000).ToList();
        var test = IdxDataset.ToDataView(ml, mnist.Test.Take(500).ToList());
        var dense = MnistSlice.QuickOptions(epochs: 2);
        dense.Method = BlockSparseMethod.Dense;
        var denseModel = Fit(ml, dense, rows);
        Assert.NotNull(denseModel.LastTransformer.DenseWeights);
        Assert.Equal(3, denseModel.LastTransformer.DenseWeights!.Count);

        // Next to no training (λ1 = 0, a tiny learning rate): the factored run scores like the nearest Kronecker
        // product of the dense weights (a rank-8 approximation), far above the same run from random factors.
        var kronecker = MnistSlice.QuickOptions(epochs: 1);
        kronecker.InitialWeights = denseModel.LastTransformer.DenseWeights;
        kronecker.Rank = 8;
        kronecker.LearningRate = 1e-6;
        kronecker.L1Start = 0;
        kronecker.L1Increment = 0;
        var started = Fit(ml, kronecker, rows);
        Assert.Null(started.LastTransformer.DenseWeights);
        var accuracy = ml.MulticlassClassification.Evaluate(started.Transform(test)).MicroAccuracy;
        kronecker.InitialWeights = null;
        var fromRandom = ml.MulticlassClassification.Evaluate(Fit(ml, kronecker, rows).Transform(test)).MicroAccuracy;
        Assert.True(accuracy > 0.35 && accuracy > fromRandom + 0.2, $"accuracy right after the nearest-Kronecker start {accuracy:P2}, from random factors {fromRandom:P2}");

        var wrong = MnistSlice.QuickOptions(epochs: 1);
        wrong.InitialWeights = [.. denseModel.LastTransformer.DenseWeights!.Take(2)];
        var e = Assert.Throws<ArgumentException>(() => Fit(ml, wrong, rows));
        Assert.Contains("InitialWeights has 2 layers; the network has 3 (784->300, 300->100, 100->10)", e.Message);
    }

    private static TransformerChain<BlockSparseModel> Fit(MLContext ml, BlockSparseTrainer.Options options, IReadOnlyList<IdxImage> rows)
        => ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(IdxDataset.ToDataView(ml, rows));
}
