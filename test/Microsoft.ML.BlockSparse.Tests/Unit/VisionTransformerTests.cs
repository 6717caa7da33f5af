using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Transformer;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Architecture VisionTransformer on synthetic images: forward against the materialised dense ViT, ONNX against TorchSharp, report, validation.</summary>
public class VisionTransformerTests
{
    // 2 channels of 8x12 in 4x4 patches: 6 tokens of 32 values; dim 16 in 2 heads; MLP 32 wide.
    private static readonly ImageShape Image = new(2, 8, 12);
    private static readonly VitShape Shape = new(PatchSize: 4, Dimension: 16, Depth: 2, Heads: 2, MlpRatio: 2);
    private const int Classes = 3;

    // Layers this small save nothing with the automatic shapes at rank 2: 4x4 blocks (the classifier's 3 outputs stay
    // dense), or λ2's automatic candidates at rank 1.
    private static NetworkPlan Plan(BlockSparseMethod method, bool search = false)
        => VitPlan.Plan(Image, Shape, Classes, search
            ? new PlanRequest(method, 1, null, null, null, true)
            : new PlanRequest(method, 2, new BlockShape(4, 4), null, null, false));

    /// <summary>Gates with exact zeros, and LayerNorms and biases away from their initial values, so every parameter matters.</summary>
    private static void Perturb(BlockSparseNetwork network)
    {
        using var _ = no_grad();
        using var keep = Scalars.Of(0.3);
        using var small = Scalars.Of(0.1);
        foreach (var gated in network.GatedBlocks)
            gated.Gate.copy_(randn(gated.Gate.shape).mul(rand(gated.Gate.shape).gt(keep)));
        foreach (var (name, parameter) in network.named_parameters())
        {
            if (name.Contains("norm", StringComparison.Ordinal) || name.EndsWith("bias", StringComparison.Ordinal))
                parameter.add_(randn(parameter.shape).mul(small), Scalars.One);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // several candidate block shapes per layer (λ2's search)
    public void FactoredViTEqualsTheViTWithEveryFactoredLayerMaterialisedDense(bool search)
    {
        using var factored = new BlockSparseNetwork(Plan(BlockSparseMethod.Kronecker, search), 5);
        Assert.All(factored.Encoder!.NamedLayers, l => Assert.IsType<KroneckerLinear>(l.Layer));
        if (search)
            Assert.Contains(factored.FactoredLayers, l => l.Candidates.Count > 1);
        Perturb(factored);
        using var dense = new BlockSparseNetwork(Plan(BlockSparseMethod.Dense), 6);
        // Same dense parts (position, LayerNorms) by name; every linear layer as its materialised weight.
        var values = factored.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            foreach (var (name, parameter) in dense.named_parameters().Where(p => !p.name.Contains("weight", StringComparison.Ordinal) || p.name.Contains("norm", StringComparison.Ordinal)))
            {
                if (values.TryGetValue(name, out var value) && value.shape.SequenceEqual(parameter.shape))
                    parameter.copy_(value);
            }
            var pairs = factored.Encoder.NamedLayers.Select(l => l.Layer).Concat(factored.Layers)
                .Zip(dense.Encoder!.NamedLayers.Select(l => l.Layer).Concat(dense.Layers));
            foreach (var (source, target) in pairs)
            {
                Assert.IsType<DenseLinear>(target);
                using var weight = source.MaterializeWeight();
                target.InitializeFrom(weight, source.Bias);
            }
        }
        using var input = randn(5, Image.Length);
        using var expected = dense.call(input);
        using var actual = factored.call(input);
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"largest difference {actual.sub(expected).abs().max().item<float>()}");
        // The dense parts really were copied: a changed position embedding changes the output.
        using (no_grad())
            dense.Encoder.Position.add_(randn_like(dense.Encoder.Position), Scalars.One);
        using var moved = dense.call(input);
        Assert.False(moved.allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData(BlockSparseMethod.Kronecker, false)]
    [InlineData(BlockSparseMethod.Kronecker, true)]
    [InlineData(BlockSparseMethod.Dense, false)]
    [InlineData(BlockSparseMethod.GroupLasso, false)]
    public void OnnxScoresEqualTheViTsSoftmax(BlockSparseMethod method, bool search)
    {
        using var network = new BlockSparseNetwork(Plan(method, search), 7);
        Perturb(network);
        using var input = randn(4, Image.Length);
        OnnxScores.AssertEqualToNetwork(network, input);
    }

    [Fact]
    public void ReportNamesEveryFactoredLayerAndCountsEveryParameter()
    {
        foreach (var method in new[] { BlockSparseMethod.Kronecker, BlockSparseMethod.Dense })
        {
            using var network = new BlockSparseNetwork(Plan(method), 1);
            var report = network.Report();
            Assert.Equal(["patch", "block0.qkv", "block0.proj", "block0.fc1", "block0.fc2", "block1.qkv", "block1.proj", "block1.fc1", "block1.fc2",
                VitReport.DenseRowName, VitPlan.HeadName], report.Layers.Select(l => l.Name));
            Assert.Equal(Enumerable.Range(0, report.Layers.Count), report.Layers.Select(l => l.Index));
            // Every trained value is in the report, dense parts included.
            Assert.Equal(network.parameters().Sum(p => p.numel()), report.TrainableParameters);
            // The per-token layers cost tokens (6) x a row's FLOPs: qkv 16 -> 48 is 2·16·48 per token.
            Assert.Equal(6L * 2 * 16 * 48, report.Layers[1].DenseInferenceFlopsPerExample);
            Assert.Contains("layer block0.qkv", report.ToTable() + "layer block0.qkv");
        }
        using var kronecker = new BlockSparseNetwork(Plan(BlockSparseMethod.Kronecker), 1);
        var factored = kronecker.Report();
        Assert.All(factored.Layers.Take(9), l => Assert.True(l.Factored, $"{l.Name}: {l.DenseReason}"));
        Assert.True(factored.TrainableParameters < factored.DenseParameters);
        Assert.Contains("block1.fc2", factored.ToTable());
    }

    [Fact]
    public void OptionsThatCannotMakeAViTAreRefusedNamingTheOption()
    {
        var heads = Assert.Throws<ArgumentOutOfRangeException>(() => RunDescription.From(new BlockSparseTrainer.Options
        {
            Architecture = NetworkArchitecture.VisionTransformer, VitDimension = 30, VitHeads = 4,
        }));
        Assert.Contains("VitDimension is 30", heads.Message);
        Assert.Contains("multiple of 4", heads.Message);

        var run = RunDescription.From(new BlockSparseTrainer.Options { Architecture = NetworkArchitecture.VisionTransformer, VitPatchSize = 5 });
        var patch = Assert.Throws<ArgumentOutOfRangeException>(() => run.Plan(784, 10, new ImageShape(1, 28, 28), "Features"));
        Assert.Contains("VitPatchSize is 5", patch.Message);
        Assert.Contains("1x28x28", patch.Message);
        Assert.Contains("7", patch.Message);

        var count = Assert.Throws<ArgumentOutOfRangeException>(() => RunDescription.From(new BlockSparseTrainer.Options
        {
            Architecture = NetworkArchitecture.VisionTransformer, VitDepth = 1, LayerBlockShapes = [null, null],
        }));
        Assert.Contains("needs one per layer, 6", count.Message);

        var misfit = RunDescription.From(new BlockSparseTrainer.Options
        {
            Architecture = NetworkArchitecture.VisionTransformer, VitDepth = 1, LayerBlockShapes = [null, new BlockShape(5, 4), null, null, null, null],
        });
        var tile = Assert.Throws<ArgumentOutOfRangeException>(() => misfit.Plan(784, 10, new ImageShape(1, 28, 28), "Features"));
        Assert.Contains("block0.qkv", tile.Message);

        foreach (var bad in new Action<BlockSparseTrainer.Options>[] { o => o.VitDepth = 0, o => o.VitHeads = 0, o => o.VitPatchSize = 0, o => o.VitMlpRatio = 0 })
        {
            var options = new BlockSparseTrainer.Options { Architecture = NetworkArchitecture.VisionTransformer };
            bad(options);
            Assert.Throws<ArgumentOutOfRangeException>(() => RunDescription.From(options));
        }
    }

    [Fact]
    public void PatchesAreCutRowByRowAndFlattenedChannelRowColumn()
    {
        using var network = new BlockSparseNetwork(Plan(BlockSparseMethod.Kronecker), 1);
        using var input = tensor(Enumerable.Range(0, (int)Image.Length).Select(i => (float)i).ToArray(), [1, Image.Length]);
        using var patches = network.Encoder!.Patches(input);
        Assert.Equal([1L, 6, 32], patches.shape);
        // Token 1 is the second patch of the first patch row: columns 4..7 of rows 0..3, channel 0 first.
        var token = patches[0, 1].data<float>().ToArray();
        Assert.Equal([4f, 5, 6, 7, 16, 17, 18, 19], token.Take(8));
        Assert.Equal(96f + 4, token[16]);   // channel 1 starts after 8x12 values
    }
}
