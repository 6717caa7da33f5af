using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// ONNX nodes for a network's convolution stages, for one row as <see cref="OnnxExporter"/>'s graphs: the
/// flat input <c>[C·H·W]</c> is reshaped to the image, each stage is the convolution's own nodes
/// (<see cref="Layers.IOnnxLayer"/>), <c>Relu</c> and <c>MaxPool</c>, and the last maps are flattened back
/// to a vector for the linear layers.
/// </summary>
/// <remarks>
/// ONNX's Conv and MaxPool need a leading batch axis, so the maps between stages are <c>[1, C, H, W]</c>; the
/// factored convolution reshapes its input to its own channel groups anyway.
/// </remarks>
internal static class ConvStagesOnnx
{
    /// <summary>Adds the stages; returns the name of the flattened <c>[Cout·H·W]</c> output.</summary>
    public static string Add(GraphProto graph, BlockSparseNetwork network, string input)
    {
        var image = network.Image ?? throw new InvalidOperationException("The network reads flat features: it has no convolution stages.");
        var convolutions = network.Convolutions;
        string current = OnnxNodes.Reshape(graph, input, "image", 1, image.Channels, image.Height, image.Width);
        long length = image.Length;
        for (int i = 0; i < convolutions.Count; i++)
        {
            var prefix = $"conv{i}";
            var layer = convolutions[i];
            current = layer.AddOnnxNodes(graph, current, prefix);
            var (ho, wo) = layer.Output;
            current = OnnxNodes.Reshape(graph, current, prefix + ".batch", 1, layer.OutChannels, ho, wo);
            current = OnnxNodes.Add(graph, "Relu", prefix + ".relu", current).Output[0];
            int pool = network.PoolAfter(i);
            if (pool > 1)
            {
                var node = OnnxNodes.Add(graph, "MaxPool", prefix + ".pool", current);
                node.Attribute.Add(OnnxNodes.Ints("kernel_shape", pool, pool));
                node.Attribute.Add(OnnxNodes.Ints("strides", pool, pool));
                current = node.Output[0];
            }
            length = (long)layer.OutChannels * (ho / pool) * (wo / pool);
        }
        return OnnxNodes.Reshape(graph, current, "flatten", length);
    }
}
