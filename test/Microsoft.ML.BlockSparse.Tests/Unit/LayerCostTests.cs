using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class LayerCostTests
{
    [Fact]
    public void ParameterCountMatchesMethodExample()
    {
        // docs/method.md: an 8×256 matrix, rank 1, 8×8 blocks has 128 factor entries instead of 2,048.
        Assert.Equal(128 + 8, LayerCost.FactoredParameters(256, 8, new BlockShape(8, 8), 1));
        Assert.Equal(2048 + 8, LayerCost.DenseParameters(256, 8));
    }

    [Theory]
    [InlineData(784, 300, 15, 28, 2)]
    [InlineData(100, 10, 2, 10, 3)]
    public void ParameterCountMatchesTheTensorsTrained(int inF, int outF, int m, int n, int rank)
    {
        using var generator = new Generator(1);
        using var layer = new KroneckerLinear("x", inF, outF, new BlockShape(m, n), rank, generator);
        long actual = layer.parameters().Sum(p => p.numel());
        Assert.Equal(LayerCost.FactoredParameters(inF, outF, new BlockShape(m, n), rank), actual);
        Assert.Equal(actual, layer.Describe(0).TrainableParameters);
    }

    [Fact]
    public void FlopCountsFollowTheShapes()
    {
        // r·q·m·(n+p) multiply-adds: r=2, p=20, q=28, m=15, n=28 → 40,320, i.e. 80,640 FLOPs.
        Assert.Equal(80_640, LayerCost.FactoredForwardFlops(784, 300, new BlockShape(15, 28), 2));
        Assert.Equal(2 * 784 * 300, LayerCost.DenseForwardFlops(784, 300));

        using var generator = new Generator(1);
        using var layer = new KroneckerLinear("x", 784, 300, new BlockShape(15, 28), 2, generator);
        var report = layer.Describe(0);
        Assert.Equal(3 * 80_640, report.TrainingFlopsPerExample);
        Assert.Equal(3 * 2 * 784 * 300, report.DenseTrainingFlopsPerExample);
        // No zero blocks yet: inference costs the same as a training forward pass.
        Assert.Equal(80_640, report.InferenceFlopsPerExample);
    }

    [Fact]
    public void ZeroBlocksLowerInferenceFlops()
    {
        using var generator = new Generator(1);
        using var layer = new KroneckerLinear("x", 12, 30, new BlockShape(5, 4), 2, generator); // p = 6, q = 3
        using (no_grad())
            layer.Gate[TensorIndex.Colon, 2] = 0;  // input group 2 is never used: its X·Bᵀ product is skipped too

        var report = layer.Describe(0);
        Assert.Equal(6, report.ZeroBlocks);
        Assert.Equal(18, report.Blocks);
        // 2·r·m·(live groups·n + non-zero blocks) = 2·2·5·(2·4 + 12)
        Assert.Equal(2 * 2 * 5 * (2 * 4 + 12), report.InferenceFlopsPerExample);
        Assert.Equal(3 * LayerCost.FactoredForwardFlops(12, 30, new BlockShape(5, 4), 2), report.TrainingFlopsPerExample);
    }

    [Fact]
    public void LayerThatCannotTakeTheBlockStaysDenseAndSaysWhy()
    {
        var plan = LayerPlan.ForMlp(784, [300, 100], 10, 2, new BlockShape(10, 28), null);
        Assert.Equal(new BlockShape(10, 28), plan[0].Block);
        Assert.Null(plan[1].Block);   // 300 inputs are not a multiple of 28
        Assert.Contains("10x28", plan[1].DenseReason);

        using var network = new BlockSparseNetwork(plan, 1);
        var report = network.Report();
        Assert.False(report.Layers[1].Factored);
        Assert.Equal(300 * 100 + 100, report.Layers[1].TrainableParameters);
        Assert.Contains("layer 1 is dense: block 10x28", report.ToTable());
    }

    [Fact]
    public void AutomaticBlockShapesFactorOnlyWhereThatSavesParametersAndFlops()
    {
        var plan = LayerPlan.ForMlp(784, [300, 100], 10, 4, null, null);
        Assert.Equal(new BlockShape(10, 56), plan[0].Block);
        Assert.Equal(new BlockShape(5, 50), plan[1].Block);
        // 100→10 at rank 4: the balanced 2x10 tiling would need 7.2k training FLOPs against 6.0k dense.
        Assert.Null(plan[2].Block);
        Assert.Contains("would not save both parameters and FLOPs", plan[2].DenseReason);
        // At rank 1 the same layer is worth factoring.
        Assert.NotNull(BlockShapeCandidates.Balanced(100, 10, 1));
        // At rank 2 it is factored too, and as the output layer it keeps the balanced shape where a hidden layer of
        // the same sizes would get a cheaper one.
        var rank2 = LayerPlan.ForMlp(784, [300, 100], 10, 2, null, null);
        Assert.Equal(new BlockShape(2, 10), rank2[2].Block);
        Assert.Equal(new BlockShape(1, 20), BlockShapeCandidates.Automatic(100, 10, 2, outputLayer: false));

        foreach (var (inF, outF, rank) in new[] { (784, 300, 4), (300, 100, 8), (100, 10, 1), (64, 64, 2), (97, 13, 1) })
        {
            Assert.Equal(BlockShapeCandidates.Balanced(inF, outF, rank) is null, BlockShapeCandidates.Automatic(inF, outF, rank, outputLayer: false) is null);
            if (BlockShapeCandidates.Automatic(inF, outF, rank, outputLayer: false) is { } block)
            {
                Assert.True(block.Divides(inF, outF));
                Assert.True(LayerCost.FactoredParameters(inF, outF, block, rank) < LayerCost.DenseParameters(inF, outF));
                Assert.True(LayerCost.FactoredForwardFlops(inF, outF, block, rank) < LayerCost.DenseForwardFlops(inF, outF));
            }
        }
    }

    [Theory]
    [InlineData(784, 300, 4, 15, 28, 10, 56)]
    [InlineData(300, 100, 4, 10, 15, 5, 50)]
    [InlineData(3072, 512, 4, 16, 48, 8, 192)]
    [InlineData(512, 512, 2, 16, 16, 16, 32)]
    public void AutomaticShapeIsTheCheapestWithNoMoreParametersAndTheSameRankBoundAsTheBalancedOne(
        int inF, int outF, int rank, int balancedRows, int balancedColumns, int rows, int columns)
    {
        var balanced = BlockShapeCandidates.Balanced(inF, outF, rank)!.Value;
        var automatic = BlockShapeCandidates.Automatic(inF, outF, rank, outputLayer: false)!.Value;
        // The output layer, whose rows are the classes, keeps the balanced shape.
        Assert.Equal(balanced, BlockShapeCandidates.Automatic(inF, outF, rank, outputLayer: true));
        Assert.Equal(new BlockShape(balancedRows, balancedColumns), balanced);
        Assert.Equal(new BlockShape(rows, columns), automatic);
        Assert.True(automatic.Divides(inF, outF));
        Assert.True(LayerCost.FactoredParameters(inF, outF, automatic, rank) <= LayerCost.FactoredParameters(inF, outF, balanced, rank));
        Assert.Equal(BlockShapeCandidates.WeightRankBound(inF, outF, balanced, rank), BlockShapeCandidates.WeightRankBound(inF, outF, automatic, rank));
        Assert.True(LayerCost.FactoredForwardFlops(inF, outF, automatic, rank) < LayerCost.FactoredForwardFlops(inF, outF, balanced, rank));
        // No tiling within the same limits is cheaper.
        for (int m = 1; m <= outF; m++)
            for (int n = 1; n <= inF; n++)
            {
                var block = new BlockShape(m, n);
                if (block.Divides(inF, outF)
                    && LayerCost.FactoredParameters(inF, outF, block, rank) <= LayerCost.FactoredParameters(inF, outF, balanced, rank)
                    && BlockShapeCandidates.WeightRankBound(inF, outF, block, rank) >= BlockShapeCandidates.WeightRankBound(inF, outF, balanced, rank))
                    Assert.True(LayerCost.FactoredForwardFlops(inF, outF, block, rank) >= LayerCost.FactoredForwardFlops(inF, outF, automatic, rank), $"{block}");
            }
    }
}
