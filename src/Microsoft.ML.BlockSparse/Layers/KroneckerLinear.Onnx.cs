using Microsoft.ML.BlockSparse.Export;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// The layer's ONNX nodes in factored and pruned form: per live candidate only the input groups with a
/// non-zero block are projected with <c>B</c>, and only the non-zero blocks are mixed
/// (<see cref="BlockMixingOnnx"/>), so the file holds the small factors, never the dense weight, and the
/// model does the report's inference FLOPs.
/// </summary>
internal sealed partial class KroneckerLinear
{
    /// <summary>The sum over the live candidates of their pruned factored products, plus the bias; input <c>[in]</c>, output <c>[out]</c>.</summary>
    public string AddOnnxNodes(GraphProto graph, string input, string prefix)
    {
        var live = LiveCandidates;
        string? sum = null;
        for (int c = 0; c < live.Count; c++)
            sum = AddFactors(graph, live[c], input, sum, live.Count == 1 ? prefix : $"{prefix}.c{c}");
        using var _ = no_grad();
        var bias = OnnxNodes.FloatInitializer(graph, prefix + ".b", Bias);
        if (sum is null)
        {
            // Every block is zero: the layer outputs its bias whatever the input.
            return OnnxNodes.Add(graph, "Identity", prefix + ".bias", bias).Output[0];
        }
        var flat = OnnxNodes.Reshape(graph, sum, prefix + ".flat", OutFeatures);
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", flat, bias).Output[0];
    }

    // Z = X_live · Bᵀ as [q', r, m], then the non-zero blocks mixed into [p, m] (onto the previous candidates' sum).
    private static string? AddFactors(GraphProto graph, KroneckerFactors factors, string input, string? accumulate, string prefix)
    {
        int m = factors.Block.Rows, n = factors.Block.Columns, q = factors.GridColumns, r = factors.Rank;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pattern = BlockPattern.Read(factors.Gate, factors.Left);
        if (pattern.Blocks.Length == 0)
            return accumulate;

        var x = OnnxNodes.Reshape(graph, input, prefix + ".x", q, n);
        var liveGroups = BlockMixingOnnx.GatherLiveGroups(graph, x, pattern, prefix);
        // Block by block, the projections go rank last ([q', m, r]: B's rows ordered (i, i')), so the rank sum is over the last axis.
        bool rankLast = BlockMixingOnnx.UsesBlockByBlockMixing(pattern, accumulate);
        var right = rankLast ? factors.Right.permute(1, 0, 2) : factors.Right;                                   // [m, r, n] or [r, m, n]
        var rightT = OnnxNodes.FloatInitializer(graph, prefix + ".B_t", right.reshape(r * m, n).t());            // [n, r·m]
        var projected = OnnxNodes.Add(graph, "MatMul", prefix + ".project", liveGroups, rightT).Output[0];
        var split = rankLast
            ? OnnxNodes.Reshape(graph, projected, prefix + ".split", pattern.LiveColumns.Length, m, r)
            : OnnxNodes.Reshape(graph, projected, prefix + ".split", pattern.LiveColumns.Length, r, m);
        return BlockMixingOnnx.Mix(graph, split, pattern, m, accumulate, prefix, rankLast);
    }
}
