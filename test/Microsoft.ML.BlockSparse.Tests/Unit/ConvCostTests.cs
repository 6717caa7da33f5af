using Microsoft.ML.BlockSparse.Layers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class ConvCostTests
{
    // LeNet-5's second convolution: 16 x 6 x 5 x 5 on a 14x14 map (no padding -> 10x10), 4x3 channel blocks
    // (p = 4, q = 2), rank 2.
    private static readonly (int, int) Kernel = (5, 5);
    private static readonly BlockShape Block = new(4, 3);
    private static readonly (int, int) Output = (10, 10);

    [Fact]
    public void WorkedExample()
    {
        Assert.Equal((10, 10), ConvCost.OutputSize((14, 14), Kernel, 1, 0));
        Assert.Equal((28, 28), ConvCost.OutputSize((28, 28), Kernel, 1, 2));
        Assert.Equal((5, 4), ConvCost.OutputSize((9, 7), (3, 3), 2, 1));   // ⌊(9+2−3)/2⌋+1, ⌊(7+2−3)/2⌋+1

        // Dense: 16·6·25 weights + 16 biases; factored: (r+1)·p·q + r·m·n·kh·kw + 16 = 3·8 + 2·4·3·25 + 16.
        Assert.Equal(2_416, ConvCost.DenseParameters(6, 16, Kernel));
        Assert.Equal(640, ConvCost.FactoredParameters(6, 16, Kernel, Block, 2));

        // Dense: 2·Ho·Wo·Cout·Cin·kh·kw = 2·100·2,400; factored: 2·Ho·Wo·r·q·m·(n·kh·kw + p) = 2·100·2·2·4·(75 + 4).
        Assert.Equal(480_000, ConvCost.DenseForwardFlops(6, 16, Kernel, Output));
        Assert.Equal(252_800, ConvCost.FactoredForwardFlops(6, 16, Kernel, Block, 2, Output));
        // Twice the output area, twice the FLOPs: a convolution's cost depends on its output size.
        Assert.Equal(2 * 252_800, ConvCost.FactoredForwardFlops(6, 16, Kernel, Block, 2, (10, 20)));
    }

    [Fact]
    public void ReportCountsFollowTheLayerAndItsZeroBlocks()
    {
        using var generator = new Generator(1);
        using var layer = new KroneckerConv2d("conv2", 6, 16, Kernel, Block, 2, (14, 14), generator);
        Assert.Equal(ConvCost.FactoredParameters(6, 16, Kernel, Block, 2), layer.parameters().Sum(p => p.numel()));

        var fresh = layer.Describe(1);
        Assert.Equal(640, fresh.TrainableParameters);
        Assert.Equal(2_416, fresh.DenseParameters);
        Assert.Equal(3 * 252_800, fresh.TrainingFlopsPerExample);
        Assert.Equal(3 * 480_000, fresh.DenseTrainingFlopsPerExample);
        Assert.Equal(252_800, fresh.InferenceFlopsPerExample);   // no zero block yet
        Assert.Equal(6 * 14 * 14, fresh.InFeatures);
        Assert.Equal(16 * 10 * 10, fresh.OutFeatures);
        Assert.Equal("4x3x5x5", fresh.BlockShape);
        Assert.Equal(8, fresh.Blocks);

        using (no_grad())
            layer.Gate[TensorIndex.Colon, 1] = 0;   // input group 1 is never read: its small convolution is skipped too
        var pruned = layer.Describe(1);
        Assert.Equal(4, pruned.ZeroBlocks);
        // 2·Ho·Wo·r·m·(live groups·n·kh·kw + non-zero blocks) = 2·100·2·4·(1·75 + 4)
        Assert.Equal(126_400, pruned.InferenceFlopsPerExample);
        Assert.Equal(fresh.TrainingFlopsPerExample, pruned.TrainingFlopsPerExample);
    }
}
