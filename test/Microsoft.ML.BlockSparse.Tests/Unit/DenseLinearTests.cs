using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class DenseLinearTests
{
    [Fact]
    public void ColumnLayoutGivesTheSameOutputAndGradientsAsRows()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layer = new DenseLinear("d", 12, 7, "test", generator);
        using (no_grad())
            layer.Bias.copy_(randn([7], generator: generator));
        var x = randn([5, 12], generator: generator).requires_grad_(true);
        var upstream = randn([5, 7], generator: generator);
        var parameters = new Tensor[] { layer.Weight, layer.Bias, x };

        var rows = layer.call(x);
        rows.mul(upstream).sum().backward();
        var rowGrads = parameters.Select(p => p.grad!.clone()).ToArray();
        foreach (var p in parameters)
            p.grad!.fill_(Scalars.Zero);

        var columns = layer.ForwardColumns(x.t().contiguous());
        Assert.Equal([7L, 5L], columns.shape);
        Assert.True(allclose(rows.t(), columns, rtol: 1e-5, atol: 1e-5));
        columns.t().mul(upstream).sum().backward();
        for (int i = 0; i < parameters.Length; i++)
            Assert.True(allclose(rowGrads[i], parameters[i].grad!, rtol: 1e-5, atol: 1e-5), $"gradient {i} differs");
    }
}
