using Microsoft.ML.BlockSparse.Export;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

internal sealed partial class DenseLinear
{
    /// <summary><c>x·Wᵀ + b</c> as MatMul and Add; input <c>[in]</c>, output <c>[out]</c>.</summary>
    public string AddOnnxNodes(GraphProto graph, string input, string prefix)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var product = OnnxNodes.Add(graph, "MatMul", prefix + ".matmul", input, OnnxNodes.FloatInitializer(graph, prefix + ".W_t", Weight.t())).Output[0];
        return OnnxNodes.Add(graph, "Add", prefix + ".bias", product, OnnxNodes.FloatInitializer(graph, prefix + ".b", Bias)).Output[0];
    }
}
