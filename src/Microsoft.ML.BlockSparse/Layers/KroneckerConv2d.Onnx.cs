using Microsoft.ML.BlockSparse.Export;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// The layer's ONNX nodes in factored form, for one row (no batch dimension,
/// as <see cref="OnnxExporter"/>'s graphs): input <c>[Cin, H, W]</c>, output <c>[Cout, Ho, Wo]</c>.
/// The file holds <c>B</c> and <c>S ⊙ A</c>, never the dense kernel.
/// </summary>
/// <remarks>
/// The same computation as the layer's forward pass, with the input-channel groups as the Conv's batch:
/// <code>
/// X  [Cin, H, W]      → Reshape [q, n, H, W]
///    → Conv(B as [r·m, n, kh, kw], stride, pads) [q, r·m, Ho, Wo]
///    → Reshape [q, r, m·Ho·Wo] → Transpose(1, 0, 2) → Reshape [r·q, m·Ho·Wo]
///    → MatMul(S⊙A as [p, r·q], ·) [p, m·Ho·Wo] → Reshape [Cout, Ho, Wo] → Add(bias [Cout, 1, 1])
/// </code>
/// The sizes are those of the layer's <see cref="Input"/>, so the graph's input must have that size.
/// </remarks>
internal sealed partial class KroneckerConv2d
{
    /// <summary>
    /// Adds the layer's nodes, read as it is now (zero gates are exported as zeros): input <c>[Cin, H, W]</c>
    /// (or any shape of that many values), output <c>[Cout, Ho, Wo]</c>.
    /// </summary>
    public string AddOnnxNodes(GraphProto graph, string input, string prefix)
    {
        int m = Block.Rows, n = Block.Columns, p = GridRows, q = GridColumns, r = Rank;
        var (h, w) = Input;
        var (ho, wo) = Output;
        using var scope = NewDisposeScope();
        using var _ = no_grad();

        var groups = OnnxNodes.Reshape(graph, input, prefix + ".groups", q, n, h, w);
        var kernels = OnnxNodes.FloatInitializer(graph, prefix + ".B", Right.reshape(r * m, n, Kernel.Height, Kernel.Width));
        var conv = OnnxNodes.Add(graph, "Conv", prefix + ".conv", groups, kernels);
        conv.Attribute.Add(OnnxNodes.Ints("kernel_shape", Kernel.Height, Kernel.Width));
        conv.Attribute.Add(OnnxNodes.Ints("strides", Stride, Stride));
        conv.Attribute.Add(OnnxNodes.Ints("pads", Padding, Padding, Padding, Padding));

        var split = OnnxNodes.Reshape(graph, conv.Output[0], prefix + ".split", q, r, (long)m * ho * wo);
        var rankMajor = OnnxNodes.Transpose(graph, split, prefix + ".transpose", 1, 0, 2);
        var stacked = OnnxNodes.Reshape(graph, rankMajor, prefix + ".stack", (long)r * q, (long)m * ho * wo);
        var mixing = OnnxNodes.FloatInitializer(graph, prefix + ".SA", MixingMatrix());
        var mixed = OnnxNodes.Add(graph, "MatMul", prefix + ".mix", mixing, stacked).Output[0];
        var maps = OnnxNodes.Reshape(graph, mixed, prefix + ".maps", OutChannels, ho, wo);
        var bias = OnnxNodes.FloatInitializer(graph, prefix + ".b", Bias.reshape(OutChannels, 1, 1));
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", maps, bias).Output[0];
    }
}
