using Microsoft.ML.BlockSparse.Export;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

internal sealed partial class DenseConv2d
{
    /// <summary>One ONNX Conv with the bias inside; input <c>[1, Cin, H, W]</c> (ONNX's Conv needs the batch axis), output <c>[1, Cout, Ho, Wo]</c>.</summary>
    public string AddOnnxNodes(GraphProto graph, string input, string prefix)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (h, w) = Input;
        var batched = OnnxNodes.Reshape(graph, input, prefix + ".input", 1, InChannels, h, w);
        var conv = OnnxNodes.Add(graph, "Conv", prefix + ".conv", batched,
            OnnxNodes.FloatInitializer(graph, prefix + ".W", Weight), OnnxNodes.FloatInitializer(graph, prefix + ".b", Bias));
        conv.Attribute.Add(OnnxNodes.Ints("kernel_shape", Kernel.Height, Kernel.Width));
        conv.Attribute.Add(OnnxNodes.Ints("strides", Stride, Stride));
        conv.Attribute.Add(OnnxNodes.Ints("pads", Padding, Padding, Padding, Padding));
        return conv.Output[0];
    }
}
