using Microsoft.ML.BlockSparse.Export;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// The layer's ONNX nodes in factored and pruned form, for one row (no batch dimension, as
/// <see cref="OnnxExporter"/>'s graphs): input <c>[Cin, H, W]</c>, output <c>[Cout, Ho, Wo]</c>.
/// The file holds <c>B</c> and the non-zero blocks' <c>S ⊙ A</c>, never the dense kernel.
/// </summary>
/// <remarks>
/// The same computation as the layer's forward pass, with the live input-channel groups as the Conv's batch
/// and only the non-zero blocks mixed (<see cref="BlockMixingOnnx"/>), so the model does the report's
/// inference FLOPs (<see cref="ConvCost.FactoredInferenceFlops"/>):
/// <code>
/// X  [Cin, H, W]      → Reshape [q, n, H, W] → Gather live groups [q', n, H, W]
///    → Conv(B as [r·m, n, kh, kw], stride, pads) [q', r·m, Ho, Wo] → Reshape [q', r, m·Ho·Wo]
///    → mix the non-zero blocks [p, m·Ho·Wo] → Reshape [Cout, Ho, Wo] → Add(bias [Cout, 1, 1])
/// </code>
/// The sizes are those of the layer's <see cref="Input"/>, so the graph's input must have that size.
/// </remarks>
internal sealed partial class KroneckerConv2d
{
    /// <summary>
    /// Adds the layer's nodes, read as it is now (zero blocks are left out): input <c>[Cin, H, W]</c>
    /// (or any shape of that many values), output <c>[Cout, Ho, Wo]</c>.
    /// </summary>
    public string AddOnnxNodes(GraphProto graph, string input, string prefix)
    {
        int m = Block.Rows, n = Block.Columns, r = Rank;
        var (h, w) = Input;
        var (ho, wo) = Output;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pattern = BlockPattern.Read(Gate, Left);
        var bias = OnnxNodes.FloatInitializer(graph, prefix + ".b", Bias.reshape(OutChannels, 1, 1));
        if (pattern.Blocks.Length == 0)
        {
            // Every block is zero: every map is its bias.
            var constant = OnnxNodes.FloatInitializer(graph, prefix + ".constant", Bias.reshape(OutChannels, 1, 1).expand(OutChannels, ho, wo));
            return OnnxNodes.Add(graph, "Identity", prefix + ".bias", constant).Output[0];
        }

        var groups = OnnxNodes.Reshape(graph, input, prefix + ".groups", GridColumns, n, h, w);
        var liveGroups = BlockMixingOnnx.GatherLiveGroups(graph, groups, pattern, prefix);
        var kernels = OnnxNodes.FloatInitializer(graph, prefix + ".B", Right.reshape(r * m, n, Kernel.Height, Kernel.Width));
        var conv = OnnxNodes.Add(graph, "Conv", prefix + ".conv", liveGroups, kernels);
        conv.Attribute.Add(OnnxNodes.Ints("kernel_shape", Kernel.Height, Kernel.Width));
        conv.Attribute.Add(OnnxNodes.Ints("strides", Stride, Stride));
        conv.Attribute.Add(OnnxNodes.Ints("pads", Padding, Padding, Padding, Padding));

        long length = (long)m * ho * wo;
        var split = OnnxNodes.Reshape(graph, conv.Output[0], prefix + ".split", pattern.LiveColumns.Length, r, length);
        var mixed = BlockMixingOnnx.Mix(graph, split, pattern, length, null, prefix)!;
        var maps = OnnxNodes.Reshape(graph, mixed, prefix + ".maps", OutChannels, ho, wo);
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", maps, bias).Output[0];
    }
}
