using Microsoft.ML.BlockSparse.Layers;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// ONNX nodes for a <see cref="KroneckerConv2d"/> in factored form, for one row (no batch dimension,
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
/// The sizes are those of the layer's <see cref="KroneckerConv2d.Input"/>, so the graph's input must have that size.
/// </remarks>
internal static class KroneckerConvOnnx
{
    /// <summary>Adds the layer's nodes and initialisers (named <c>PREFIX.*</c>) to <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph to extend.</param>
    /// <param name="layer">The layer, read as it is now (zero gates are exported as zeros).</param>
    /// <param name="input">Name of a <c>[Cin, H, W]</c> float value in the graph.</param>
    /// <param name="prefix">Prefix of every node and initialiser name, unique in the graph.</param>
    /// <returns>The name of the <c>[Cout, Ho, Wo]</c> output.</returns>
    public static string Add(GraphProto graph, KroneckerConv2d layer, string input, string prefix)
    {
        int m = layer.Block.Rows, n = layer.Block.Columns, p = layer.GridRows, q = layer.GridColumns, r = layer.Rank;
        var (h, w) = layer.Input;
        var (ho, wo) = layer.Output;
        using var scope = NewDisposeScope();
        using var _ = no_grad();

        var groups = OnnxNodes.Reshape(graph, input, prefix + ".groups", q, n, h, w);
        var kernels = OnnxNodes.FloatInitializer(graph, prefix + ".B", layer.Right.reshape(r * m, n, layer.Kernel.Height, layer.Kernel.Width));
        var conv = OnnxNodes.Add(graph, "Conv", prefix + ".conv", groups, kernels);
        conv.Attribute.Add(OnnxNodes.Ints("kernel_shape", layer.Kernel.Height, layer.Kernel.Width));
        conv.Attribute.Add(OnnxNodes.Ints("strides", layer.Stride, layer.Stride));
        conv.Attribute.Add(OnnxNodes.Ints("pads", layer.Padding, layer.Padding, layer.Padding, layer.Padding));

        var split = OnnxNodes.Reshape(graph, conv.Output[0], prefix + ".split", q, r, (long)m * ho * wo);
        var rankMajor = OnnxNodes.Transpose(graph, split, prefix + ".transpose", 1, 0, 2);
        var stacked = OnnxNodes.Reshape(graph, rankMajor, prefix + ".stack", (long)r * q, (long)m * ho * wo);
        var mixing = OnnxNodes.FloatInitializer(graph, prefix + ".SA", layer.MixingMatrix());
        var mixed = OnnxNodes.Add(graph, "MatMul", prefix + ".mix", mixing, stacked).Output[0];
        var maps = OnnxNodes.Reshape(graph, mixed, prefix + ".maps", layer.OutChannels, ho, wo);
        var bias = OnnxNodes.FloatInitializer(graph, prefix + ".b", layer.Bias.reshape(layer.OutChannels, 1, 1));
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", maps, bias).Output[0];
    }
}
