using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The exported ONNX model is the pruned network: its own FLOPs (counted over the graph by <see cref="OnnxFlops"/>)
/// equal the report's inference FLOPs, layer by layer, and it still scores as the TorchSharp network.
/// </summary>
public class PrunedOnnxExportTests
{
    /// <summary>Which blocks a test zeroes.</summary>
    public enum Zeros
    {
        /// <summary>No block: the unpruned network.</summary>
        None,

        /// <summary>Whole input groups and output groups (the compacted mixing stays a full matrix).</summary>
        RowsAndColumns,

        /// <summary>Scattered blocks, plus one whole input group and one whole output group.</summary>
        Scattered,

        /// <summary>Every block: the layer is its bias.</summary>
        All,
    }

    [Theory]
    [InlineData(Zeros.None)]
    [InlineData(Zeros.RowsAndColumns)]
    [InlineData(Zeros.Scattered)]
    [InlineData(Zeros.All)]
    public void MlpOnnxDoesTheReportsInferenceFlops(Zeros zeros)
    {
        // Layer 1 stays dense (6x5 does not tile 20 inputs), so both layer kinds are exported.
        var plan = LayerPlan.ForMlp(30, [12, 20], 4, 2, null, [new BlockShape(3, 5), new BlockShape(6, 5), new BlockShape(2, 5)]);
        plan = [plan[0], LayerPlan.Dense(plan[1].InFeatures, plan[1].OutFeatures, "test"), plan[2]];
        using var network = new BlockSparseNetwork(plan, 9);
        using var generator = new Generator(5);
        foreach (var layer in network.LiveFactors)
            Prune(layer, zeros, generator);

        AssertFlopsEqualReport(network);
        using var input = randn(4, 30);
        OnnxScores.AssertEqualToNetwork(network, input);
    }

    [Fact]
    public void SeveralLiveCandidatesAreSummedWithoutExtraFlops()
    {
        // λ2 has not decided yet: both candidates of layer 0 are live, each pruned differently.
        var plan = LayerPlan.ForMlp(12, [8], 4, new PlanRequest(BlockSparseMethod.Kronecker, 2, null, null,
            [[new BlockShape(2, 3), new BlockShape(4, 6)], [new BlockShape(2, 2)]], false));
        using var network = new BlockSparseNetwork(plan, 3);
        using var generator = new Generator(8);
        var candidates = network.FactoredLayers.First().LiveCandidates;
        Assert.Equal(2, candidates.Count);
        Prune(candidates[0], Zeros.Scattered, generator);
        Prune(candidates[1], Zeros.RowsAndColumns, generator);

        AssertFlopsEqualReport(network);
        using var input = randn(3, 12);
        OnnxScores.AssertEqualToNetwork(network, input);
    }

    [Theory]
    [InlineData(Zeros.None)]
    [InlineData(Zeros.Scattered)]
    [InlineData(Zeros.All)]
    public void LeNet5OnnxDoesTheReportsInferenceFlops(Zeros zeros)
    {
        var plan = LeNet5Plan.Plan(new ImageShape(1, 16, 16), 3, new PlanRequest(BlockSparseMethod.Kronecker, 2, null, null, null, false));
        using var network = new BlockSparseNetwork(plan, 4);
        using var generator = new Generator(6);
        foreach (var layer in network.Convolutions.OfType<IGatedBlocks>().Concat(network.LiveFactors))
            Prune(layer, zeros, generator);

        AssertFlopsEqualReport(network);
        using var input = randn(2, 256);
        OnnxScores.AssertEqualToNetwork(network, input);
    }

    [Fact]
    public void PrunedOnnxIsSmallerThanTheUnprunedFactors()
    {
        var plan = LayerPlan.ForMlp(784, [300, 100], 10, 4, null, null);
        using var network = new BlockSparseNetwork(plan, 1);
        long full = OnnxExporter.Export(network, "Features").Length;
        using var generator = new Generator(2);
        foreach (var layer in network.LiveFactors)
            Prune(layer, Zeros.Scattered, generator);
        long pruned = OnnxExporter.Export(network, "Features").Length;
        Assert.True(pruned < full, $"pruned ONNX {pruned} bytes, unpruned {full}");
    }

    private static void AssertFlopsEqualReport(BlockSparseNetwork network)
    {
        var report = network.Report();
        var perNode = OnnxFlops.PerNode(OnnxExporter.Export(network, "Features"));
        int convolutions = network.Convolutions.Count;
        foreach (var row in report.Layers)
        {
            var prefix = row.Index < convolutions ? $"conv{row.Index}" : $"layer{row.Index - convolutions}";
            Assert.True(row.InferenceFlopsPerExample == OnnxFlops.Of(perNode, prefix),
                $"{prefix}: report {row.InferenceFlopsPerExample} FLOPs, ONNX {OnnxFlops.Of(perNode, prefix)}");
        }
        Assert.Equal(report.InferenceFlopsPerExample, perNode.Values.Sum());
    }

    private static void Prune(IGatedBlocks layer, Zeros zeros, Generator generator)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var gate = layer.Gate;
        // Random gate values away from zero, so only the chosen blocks are exactly zero.
        using (var half = Scalars.Of(0.5))
            gate.copy_(rand(gate.shape, generator: generator).add(half, Scalars.One));
        long p = gate.shape[0], q = gate.shape[1];
        switch (zeros)
        {
            case Zeros.RowsAndColumns:
                if (q > 1) gate[.., 0] = 0;
                if (p > 1) gate[p - 1] = 0;
                break;
            case Zeros.Scattered:
                using (var keep = Scalars.Of(0.4))
                    gate.mul_(rand(gate.shape, generator: generator).gt(keep));
                gate[0, q - 1] = 1;   // at least one live block
                if (q > 2) gate[.., 0] = 0;
                if (p > 2) gate[p - 1] = 0;
                break;
            case Zeros.All:
                gate.fill_(Scalars.Zero);
                break;
        }
    }
}
