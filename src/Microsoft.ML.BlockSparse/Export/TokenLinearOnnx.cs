using Microsoft.ML.BlockSparse.Layers;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// A linear layer on every token, <c>[T, in]</c> to <c>[T, out]</c>, for the transformer's graph. A dense layer's own
/// nodes broadcast over the tokens as they are; a factored layer's own nodes read one vector, so this writes its
/// factored product with a token axis in front (the same factors: <c>B</c> and <c>S ⊙ A</c> of each live candidate).
/// </summary>
internal static class TokenLinearOnnx
{
    public static string Add(GraphProto graph, IBlockSparseLayer layer, string input, string prefix, int tokens)
    {
        if (layer is not KroneckerLinear kronecker)
            return layer.AddOnnxNodes(graph, input, prefix);
        var live = kronecker.LiveCandidates;
        string? sum = null;
        for (int c = 0; c < live.Count; c++)
        {
            var branch = Factors(graph, live[c], input, live.Count == 1 ? prefix : $"{prefix}.c{c}", tokens);
            sum = sum is null ? branch : OnnxNodes.Add(graph, "Add", $"{prefix}.sum{c}", sum, branch).Output[0];
        }
        using var _ = no_grad();
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", sum!, OnnxNodes.FloatInitializer(graph, prefix + ".b", kronecker.Bias)).Output[0];
    }

    // Y = reshape( C · reshape(transpose(reshape(X·Bcatᵀ, [T, q, r, m]), [0,2,1,3]), [T, r·q, m]), [T, p·m] ),
    // MatMul broadcasting C [p, r·q] over the tokens.
    private static string Factors(GraphProto graph, KroneckerFactors factors, string input, string prefix, int tokens)
    {
        int m = factors.Block.Rows, n = factors.Block.Columns, p = factors.GridRows, q = factors.GridColumns, r = factors.Rank;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rightT = factors.Right.reshape(r * m, n).t();       // [n, r·m]
        var mixing = factors.MixingMatrix();                      // [p, r·q]

        var x = OnnxNodes.Reshape(graph, input, prefix + ".x", tokens, q, n);
        var projected = OnnxNodes.Add(graph, "MatMul", prefix + ".project", x, OnnxNodes.FloatInitializer(graph, prefix + ".B_t", rightT)).Output[0];
        var split = OnnxNodes.Reshape(graph, projected, prefix + ".split", tokens, q, r, m);
        var transposed = OnnxNodes.Transpose(graph, split, prefix + ".transpose", 0, 2, 1, 3);
        var stacked = OnnxNodes.Reshape(graph, transposed, prefix + ".stack", tokens, r * q, m);
        var mixed = OnnxNodes.Add(graph, "MatMul", prefix + ".mix", OnnxNodes.FloatInitializer(graph, prefix + ".SA", mixing), stacked).Output[0];
        return OnnxNodes.Reshape(graph, mixed, prefix + ".flat", tokens, p * m);
    }
}
