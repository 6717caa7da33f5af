using Microsoft.ML.BlockSparse.Layers;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// A linear layer on every token, <c>[T, in]</c> to <c>[T, out]</c>, for the transformer's graph. A dense layer's own
/// nodes broadcast over the tokens as they are; a factored layer is written pruned, as <see cref="KroneckerLinear"/>
/// writes it for one row: per live candidate only the live input groups are projected with <c>B</c> and only the
/// non-zero blocks are mixed (<see cref="BlockMixingOnnx"/>), so the graph does <c>T</c> times the report's
/// per-row inference FLOPs, which is what the report's per-example figure counts.
/// </summary>
/// <remarks>
/// The tokens ride in the last axis: the input is transposed once to <c>[in, T]</c>, viewed as <c>[q, n, T]</c>, and
/// the mixing works on <c>[p, m·T]</c>. Row-major, that is <c>[out, T]</c> whatever the block shape, so the live
/// candidates of a λ2 search (different <c>p × m</c>) accumulate into one value exactly as for a single row, and one
/// transpose at the end gives <c>[T, out]</c>.
/// </remarks>
internal static class TokenLinearOnnx
{
    public static string Add(GraphProto graph, IBlockSparseLayer layer, string input, string prefix, int tokens)
    {
        if (layer is not KroneckerLinear kronecker)
            return layer.AddOnnxNodes(graph, input, prefix);
        var live = kronecker.LiveCandidates;
        var columns = OnnxNodes.Transpose(graph, input, prefix + ".tokens_last", 1, 0);       // [in, T]
        string? sum = null;
        for (int c = 0; c < live.Count; c++)
            sum = Factors(graph, live[c], columns, sum, live.Count == 1 ? prefix : $"{prefix}.c{c}", tokens);
        using var _ = no_grad();
        var bias = OnnxNodes.FloatInitializer(graph, prefix + ".b", kronecker.Bias);
        if (sum is null)
        {
            // Every block is zero: each token's output is the bias.
            var shape = OnnxNodes.Int64Initializer(graph, prefix + ".bias_shape", tokens, kronecker.OutFeatures);
            return OnnxNodes.Add(graph, "Expand", prefix + ".bias", bias, shape).Output[0];
        }
        var rows = OnnxNodes.Reshape(graph, sum, prefix + ".out", kronecker.OutFeatures, tokens);
        var tokensFirst = OnnxNodes.Transpose(graph, rows, prefix + ".tokens_first", 1, 0);   // [T, out]
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", tokensFirst, bias).Output[0];
    }

    // Z = B · X_live as [q', r, m·T] (MatMul broadcasting B [r·m, n] over the live groups of X [q, n, T]),
    // then the non-zero blocks mixed into [p, m·T] (onto the previous candidates' sum).
    private static string? Factors(GraphProto graph, KroneckerFactors factors, string columns, string? accumulate, string prefix, int tokens)
    {
        int m = factors.Block.Rows, n = factors.Block.Columns, q = factors.GridColumns, r = factors.Rank;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pattern = BlockPattern.Read(factors.Gate, factors.Left);
        if (pattern.Blocks.Length == 0)
            return accumulate;

        var x = OnnxNodes.Reshape(graph, columns, prefix + ".x", q, n, tokens);
        var liveGroups = BlockMixingOnnx.GatherLiveGroups(graph, x, pattern, prefix);
        var right = OnnxNodes.FloatInitializer(graph, prefix + ".B", factors.Right.reshape(r * m, n));
        var projected = OnnxNodes.Add(graph, "MatMul", prefix + ".project", right, liveGroups).Output[0];   // [q', r·m, T]
        var split = OnnxNodes.Reshape(graph, projected, prefix + ".split", pattern.LiveColumns.Length, r, (long)m * tokens);
        return BlockMixingOnnx.Mix(graph, split, pattern, (long)m * tokens, accumulate, prefix);
    }
}
