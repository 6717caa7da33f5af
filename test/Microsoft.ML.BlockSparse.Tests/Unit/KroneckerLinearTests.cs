using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class KroneckerLinearTests
{
    // (in, out, block rows m, block columns n, rank): square, tall, wide, 1-wide blocks, rank 1 and 5.
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 784, 300, 15, 28, 2 },
        { 12, 30, 5, 4, 1 },
        { 60, 8, 2, 6, 3 },
        { 20, 20, 1, 20, 2 },
        { 36, 18, 6, 3, 5 },
        { 64, 64, 8, 8, 4 },
    };

    [Fact]
    public void ShapesExerciseBothOrdersOfTheFactoredProduct()
    {
        // The forward pass mixes first or projects first, whichever costs fewer FLOPs; the theories above
        // must check both against the materialised weight.
        using var generator = new Generator(1);
        var orders = Shapes.Select(row => (object[])row)
            .Select(a => new KroneckerLinear("t", (int)a[0], (int)a[1], new BlockShape((int)a[2], (int)a[3]), (int)a[4], generator).Single.MixesFirst)
            .ToList();
        Assert.Contains(true, orders);
        Assert.Contains(false, orders);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForwardEqualsProductWithMaterialisedWeight(int inF, int outF, int m, int n, int rank)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(7);
        var layer = RandomisedLayer(inF, outF, m, n, rank, generator);
        var x = randn([9, inF], generator: generator);

        var factored = layer.call(x);
        var dense = x.matmul(layer.MaterializeWeight().t()).add(layer.Bias, Scalars.One);

        AssertClose(dense, factored, 1e-4);
        // The layout a network's linear stack runs in: one column per row.
        AssertClose(dense.t(), layer.ForwardColumns(x.t().contiguous()), 1e-4);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MaterialisedWeightIsTheSumOfKroneckerProducts(int inF, int outF, int m, int n, int rank)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var layer = RandomisedLayer(inF, outF, m, n, rank, generator);

        // W = Σ_i (S ⊙ A_i) ⊗ B_i, built with torch.kron, independently of the layer's einsum.
        var expected = zeros(outF, inF);
        for (int i = 0; i < rank; i++)
            expected = expected.add(kron(layer.Gate.mul(layer.Left[i]), layer.Right[i]), Scalars.One);

        AssertClose(expected, layer.MaterializeWeight(), 1e-5);
    }

    public static TheoryData<int, int, int, int, int, bool> ShapesAndLayouts
    {
        get
        {
            var data = new TheoryData<int, int, int, int, int, bool>();
            foreach (var row in Shapes.Select(r => (object[])r))
            {
                foreach (bool columns in new[] { false, true })
                    data.Add((int)row[0], (int)row[1], (int)row[2], (int)row[3], (int)row[4], columns);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ShapesAndLayouts))]
    public void FactorGradientsMatchAutogradThroughMaterialisedWeight(int inF, int outF, int m, int n, int rank, bool columns)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var layer = RandomisedLayer(inF, outF, m, n, rank, generator);
        // The input's gradient too: every layer after the first passes it back, through either order's copies.
        var x = randn([6, inF], generator: generator).requires_grad_(true);
        var upstream = randn([6, outF], generator: generator);
        var parameters = new Tensor[] { layer.Gate, layer.Left, layer.Right, layer.Bias, x };

        var output = columns ? layer.ForwardColumns(x.t().contiguous()).t() : layer.call(x);
        output.mul(upstream).sum().backward();
        Assert.NotNull(x.grad);
        var factoredGrads = parameters.Select(p => p.grad!.clone()).ToArray();
        foreach (var p in parameters)
            p.grad!.fill_(Scalars.Zero);

        x.matmul(layer.MaterializeWeight().t()).add(layer.Bias, Scalars.One).mul(upstream).sum().backward();
        for (int i = 0; i < parameters.Length; i++)
            AssertClose(parameters[i].grad!, factoredGrads[i], 1e-4);
    }

    [Fact]
    public void ZeroGateZeroesExactlyItsBlock()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layer = RandomisedLayer(12, 30, 5, 4, 2, generator);
        using (no_grad())
            layer.Gate[2, 1].fill_(Scalars.Zero);

        var w = layer.MaterializeWeight();
        Assert.Equal(0, w[TensorIndex.Slice(10, 15), TensorIndex.Slice(4, 8)].abs().sum().item<float>());
        Assert.Equal(5 * 4, w.eq(Scalars.Zero).sum().item<long>()); // no other entry is zero
        Assert.Equal(1, layer.Single.ZeroBlocks());
    }

    [Fact]
    public void BlockShapeThatDoesNotTileIsRejected()
    {
        using var generator = new Generator(1);
        var e = Assert.Throws<ArgumentException>(() => new KroneckerLinear("x", 10, 9, new BlockShape(2, 5), 1, generator));
        Assert.Contains("does not tile", e.Message);
    }

    /// <summary>A layer whose gates are random too (a fresh layer's gates are all 1, which would hide gate bugs).</summary>
    internal static KroneckerLinear RandomisedLayer(int inF, int outF, int m, int n, int rank, Generator generator)
    {
        var layer = new KroneckerLinear("test", inF, outF, new BlockShape(m, n), rank, generator);
        using (no_grad())
        {
            layer.Gate.copy_(randn(layer.Gate.shape, generator: generator));
            layer.Bias.copy_(randn(layer.Bias.shape, generator: generator));
        }
        return layer;
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = Math.Max(1.0, expected.abs().max().item<float>());
        double error = expected.sub(actual).abs().max().item<float>();
        Assert.True(error <= tolerance * scale, $"max |difference| {error:G4} exceeds {tolerance * scale:G4}");
    }
}
