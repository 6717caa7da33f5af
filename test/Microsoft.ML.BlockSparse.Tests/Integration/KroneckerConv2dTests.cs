using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using Xunit;
using static Microsoft.ML.BlockSparse.Tests.KroneckerLinearTests;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

[Trait("Category", "Integration")]
public class KroneckerConv2dTests
{
    // Cin, Cout, kh, kw, block m x n, rank, input H x W, stride, padding: LeNet-like layers, a 1x8 block
    // (one output channel, all inputs), non-square kernels and inputs, stride 2 and 3, padding.
    public static TheoryData<ConvCase> Cases => new()
    {
        new ConvCase(1, 6, 5, 5, 2, 1, 2, 28, 28, 1, 2),
        new ConvCase(6, 16, 5, 5, 4, 3, 2, 14, 14, 1, 0),
        new ConvCase(4, 6, 3, 3, 3, 2, 1, 9, 7, 2, 1),
        new ConvCase(8, 4, 3, 1, 1, 8, 3, 6, 5, 1, 1),
        new ConvCase(3, 9, 2, 3, 9, 3, 2, 8, 8, 3, 0),
    };

    public sealed record ConvCase(int Cin, int Cout, int Kh, int Kw, int M, int N, int Rank, int H, int W, int Stride, int Padding)
    {
        public override string ToString() => $"{Cout}x{Cin}x{Kh}x{Kw} block {M}x{N} r{Rank} in {H}x{W} stride {Stride} pad {Padding}";
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardEqualsConv2dWithMaterialisedKernel(ConvCase c)
    {
        foreach (ulong seed in new ulong[] { 1, 2, 3 })
        {
            using var scope = NewDisposeScope();
            using var generator = new Generator(seed);
            var layer = RandomisedLayer(c, generator);
            var x = randn([4, c.Cin, c.H, c.W], generator: generator);

            var factored = layer.call(x);
            var dense = nn.functional.conv2d(x, layer.MaterializeKernel(), layer.Bias, strides: [c.Stride, c.Stride], padding: [c.Padding, c.Padding]);

            Assert.Equal([4, c.Cout, layer.Output.Height, layer.Output.Width], factored.shape);
            AssertClose(dense, factored, 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MaterialisedKernelIsTheSumOfKroneckerProductsAtEveryKernelPosition(ConvCase c)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var layer = RandomisedLayer(c, generator);
        var kernel = layer.MaterializeKernel();

        // W[:, :, u, v] = Σ_i (S ⊙ A_i) ⊗ B_i[:, :, u, v], built with torch.kron independently of the einsum.
        for (int u = 0; u < c.Kh; u++)
        {
            for (int v = 0; v < c.Kw; v++)
            {
                var expected = zeros(c.Cout, c.Cin);
                for (int i = 0; i < c.Rank; i++)
                    expected = expected.add(kron(layer.Gate.mul(layer.Left[i]), layer.Right[i, TensorIndex.Colon, TensorIndex.Colon, u, v]), Scalars.One);
                AssertClose(expected, kernel[TensorIndex.Colon, TensorIndex.Colon, u, v], 1e-5);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FactorGradientsMatchAutogradThroughMaterialisedKernel(ConvCase c)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var layer = RandomisedLayer(c, generator);
        var x = randn([3, c.Cin, c.H, c.W], generator: generator).requires_grad_();
        var upstream = randn([3, c.Cout, layer.Output.Height, layer.Output.Width], generator: generator);
        var parameters = new Tensor[] { layer.Gate, layer.Left, layer.Right, layer.Bias, x };

        layer.call(x).mul(upstream).sum().backward();
        var factoredGrads = parameters.Select(p => p.grad!.clone()).ToArray();
        foreach (var p in parameters)
            p.grad!.fill_(Scalars.Zero);

        nn.functional.conv2d(x, layer.MaterializeKernel(), layer.Bias, strides: [c.Stride, c.Stride], padding: [c.Padding, c.Padding])
            .mul(upstream).sum().backward();
        for (int i = 0; i < parameters.Length; i++)
            AssertClose(parameters[i].grad!, factoredGrads[i], 1e-4);
    }

    [Fact]
    public void ZeroGateZeroesExactlyItsChannelBlockAcrossTheWindow()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layer = RandomisedLayer(new ConvCase(6, 16, 5, 5, 4, 3, 2, 14, 14, 1, 0), generator); // p = 4, q = 2
        using (no_grad())
            layer.Gate[2, 1].fill_(Scalars.Zero);

        var kernel = layer.MaterializeKernel();
        Assert.Equal(0, kernel[TensorIndex.Slice(8, 12), TensorIndex.Slice(3, 6)].abs().sum().item<float>());
        Assert.Equal(4 * 3 * 5 * 5, kernel.eq(Scalars.Zero).sum().item<long>()); // no other entry is zero
        Assert.Equal(1, layer.ZeroBlocks());
        Assert.Equal(1, layer.Describe(0).ZeroBlocks);
    }

    [Fact]
    public void PrunedBlocksStayZeroAfterTheGateMoves()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(2);
        var layer = RandomisedLayer(new ConvCase(4, 6, 3, 3, 3, 2, 1, 9, 7, 2, 1), generator);
        using (no_grad())
            layer.Gate[1, 0] = 1e-4f;
        layer.PruneGatesBelow(1e-3);
        Assert.Equal(1, layer.ZeroBlocks());

        using (no_grad())
            layer.Gate.add_(Scalars.One, Scalars.One);   // an optimiser step moves every gate
        layer.ApplyGateMask();
        Assert.Equal(0, layer.Gate[1, 0].item<float>());
        Assert.Equal(1, layer.ZeroBlocks());
    }

    [Fact]
    public void InitialisationKeepsTheSignalScale()
    {
        // Var(W) = 1/fan-in, as a dense layer's default: unit-variance inputs give outputs of about unit variance.
        using var scope = NewDisposeScope();
        using var generator = new Generator(4);
        using var layer = new KroneckerConv2d("c", 16, 32, (3, 3), new BlockShape(4, 4), 2, (12, 12), generator, padding: 1);
        using var _ = no_grad();
        var std = layer.call(randn([8, 16, 12, 12], generator: generator)).std().item<float>();
        Assert.InRange(std, 0.6, 1.6);
    }

    [Fact]
    public void BadShapesAreRejectedClearly()
    {
        using var generator = new Generator(1);
        var e = Assert.Throws<ArgumentException>(() => new KroneckerConv2d("c", 6, 16, (5, 5), new BlockShape(3, 3), 1, (14, 14), generator));
        Assert.Contains("does not tile", e.Message);
        Assert.Contains("16 output x 6 input channels", e.Message);

        var tooBig = Assert.Throws<ArgumentException>(() => new KroneckerConv2d("c", 1, 2, (5, 5), new BlockShape(1, 1), 1, (3, 3), generator));
        Assert.Contains("does not fit a 3x3 input", tooBig.Message);

        using var layer = new KroneckerConv2d("conv1", 3, 6, (3, 3), new BlockShape(2, 3), 1, (8, 8), generator);
        using var wrong = zeros(2, 1, 8, 8);
        var channels = Assert.Throws<ArgumentException>(() => layer.call(wrong));
        Assert.Contains("expects input [batch, 3 channels, height, width]; got [2, 1, 8, 8]", channels.Message);
    }

    [Fact]
    public void LearnsMnistDigitsWithItsDefaultInitialisation()
    {
        // conv 5x5 (1 -> 8 channels, 2x1 blocks, rank 2) -> ReLU -> 2x2 max-pool -> linear: a couple of Adam epochs on
        // 2,000 digits must get far past chance, or the factors' scales do not let it train.
        var mnist = Data.IdxDataset.Load(Samples.DataLocation.DefaultMnistFolder, train: true, 2500);
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        using var generator = new Generator(1);
        var conv = new KroneckerConv2d("conv", 1, 8, (5, 5), new BlockShape(2, 1), 2, (28, 28), generator);
        var head = nn.Linear(8 * 12 * 12, 10);
        var parameters = conv.parameters().Concat(head.parameters()).ToList();
        var optimizer = optim.Adam(parameters, 0.003);
        var x = tensor(mnist.SelectMany(r => r.Pixels).ToArray(), [mnist.Count, 1, 28, 28]);
        var y = tensor(mnist.Select(r => long.Parse(r.Label, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        Tensor Logits(Tensor batch) => head.call(nn.functional.max_pool2d(nn.functional.relu(conv.call(batch)), 2).flatten(1));

        for (int epoch = 0; epoch < 2; epoch++)
        {
            for (int start = 0; start < 2000; start += 50)
            {
                using var step = NewDisposeScope();
                optimizer.zero_grad();
                nn.functional.cross_entropy(Logits(x[start..(start + 50)]), y[start..(start + 50)]).backward();
                optimizer.step();
            }
        }
        using var _ = no_grad();
        double accuracy = Logits(x[2000..]).argmax(1).eq(y[2000..]).to_type(ScalarType.Float32).mean().item<float>();
        Assert.True(accuracy > 0.85, $"held-out accuracy {accuracy:P1} after 2 epochs on 2,000 digits");
    }

    internal static KroneckerConv2d RandomisedLayer(ConvCase c, Generator generator)
    {
        var layer = new KroneckerConv2d("test", c.Cin, c.Cout, (c.Kh, c.Kw), new BlockShape(c.M, c.N), c.Rank, (c.H, c.W), generator, c.Stride, c.Padding);
        using (no_grad())
        {
            // Fresh gates are all 1 and bias 0, which would hide gate and bias bugs.
            layer.Gate.copy_(randn(layer.Gate.shape, generator: generator));
            layer.Bias.copy_(randn(layer.Bias.shape, generator: generator));
        }
        return layer;
    }
}
