using Microsoft.ML.BlockSparse.Export;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// The layer's ONNX nodes in factored form (<c>B</c> and <c>S ⊙ A</c> of each live candidate), so the file holds
/// the small factors, never the dense weight.
/// </summary>
internal sealed partial class KroneckerLinear
{
    /// <summary>The sum over the live candidates of their factored products, plus the bias; input <c>[in]</c>, output <c>[out]</c>.</summary>
    public string AddOnnxNodes(GraphProto graph, string input, string prefix)
    {
        var live = LiveCandidates;
        string? sum = null;
        for (int c = 0; c < live.Count; c++)
        {
            var branch = AddFactors(graph, live[c], input, live.Count == 1 ? prefix : $"{prefix}.c{c}");
            sum = sum is null ? branch : OnnxNodes.Add(graph, "Add", $"{prefix}.sum{c}", sum, branch).Output[0];
        }
        using var _ = no_grad();
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", sum!, OnnxNodes.FloatInitializer(graph, prefix + ".b", Bias)).Output[0];
    }

    // y = reshape( C · reshape(transpose(reshape(X·Bcatᵀ, [q, r, m]), [1,0,2]), [r·q, m]), [p·m] )
    private static string AddFactors(GraphProto graph, KroneckerFactors factors, string input, string prefix)
    {
        int m = factors.Block.Rows, n = factors.Block.Columns, p = factors.GridRows, q = factors.GridColumns, r = factors.Rank;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rightT = factors.Right.reshape(r * m, n).t();       // [n, r·m]
        var mixing = factors.MixingMatrix();                      // [p, r·q], zero blocks included as zeros

        var x = OnnxNodes.Reshape(graph, input, prefix + ".x", q, n);
        var projected = OnnxNodes.Add(graph, "MatMul", prefix + ".project", x, OnnxNodes.FloatInitializer(graph, prefix + ".B_t", rightT)).Output[0];
        var split = OnnxNodes.Reshape(graph, projected, prefix + ".split", q, r, m);
        var transposed = OnnxNodes.Add(graph, "Transpose", prefix + ".transpose", split).Output[0];
        graph.Node[^1].Attribute.Add(new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 0, 2 } });
        var stacked = OnnxNodes.Reshape(graph, transposed, prefix + ".stack", r * q, m);
        var mixed = OnnxNodes.Add(graph, "MatMul", prefix + ".mix", OnnxNodes.FloatInitializer(graph, prefix + ".SA", mixing), stacked).Output[0];
        return OnnxNodes.Reshape(graph, mixed, prefix + ".flat", p * m);
    }
}
