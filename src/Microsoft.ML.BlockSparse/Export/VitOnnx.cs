using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Transformer;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// ONNX nodes for a Vision Transformer's encoder, for one row as <see cref="OnnxExporter"/>'s graphs: the flat image
/// <c>[C·H·W]</c> cut into patches <c>[T, C·P·P]</c>, the blocks on <c>[T, d]</c>, then the mean over the tokens, <c>[d]</c>.
/// </summary>
/// <remarks>
/// The graph keeps the exporter's opset (<see cref="OnnxNodes.OpsetVersion"/>, 16), so LayerNormalization (opset 17)
/// and Gelu (opset 20) are written as their definitions: <c>(x − mean)/√(var + ε)·γ + β</c> with ReduceMean, and
/// <c>x·(1 + erf(x/√2))/2</c> with Erf. Linear layers stay factored and pruned (<see cref="TokenLinearOnnx"/>).
/// </remarks>
internal static class VitOnnx
{
    /// <summary>Adds the encoder; returns the name of its pooled <c>[d]</c> output.</summary>
    public static string Add(GraphProto graph, VisionTransformerEncoder encoder, string input)
    {
        var plan = encoder.Plan;
        var (image, p, d) = (plan.Image, plan.Shape.PatchSize, plan.Shape.Dimension);
        var grid = OnnxNodes.Reshape(graph, input, "patches.grid", image.Channels, image.Height / p, p, image.Width / p, p);
        var ordered = OnnxNodes.Transpose(graph, grid, "patches.order", 1, 3, 0, 2, 4);
        var patches = OnnxNodes.Reshape(graph, ordered, "patches", plan.Tokens, plan.PatchLength);
        var layers = encoder.NamedLayers;
        string x;
        using (no_grad())
            x = Node(graph, "Add", "position", TokenLinearOnnx.Add(graph, layers[0].Layer, patches, "patch", plan.Tokens),
                OnnxNodes.FloatInitializer(graph, "position.value", encoder.Position));
        var blocks = encoder.Blocks;
        for (int b = 0; b < blocks.Count; b++)
            x = Block(graph, blocks[b], x, $"block{b}", plan.Tokens);
        var normed = LayerNorm(graph, encoder.Norm, x, "norm");
        var pool = OnnxNodes.Add(graph, "ReduceMean", "pool", normed);
        pool.Attribute.Add(OnnxNodes.Ints("axes", 0));
        pool.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        return pool.Output[0];
    }

    private static string Block(GraphProto graph, EncoderBlock block, string x, string prefix, int tokens)
    {
        var (layers, shape) = (block.Layers, block.Shape);
        // Attention: qkv [T, 3d] -> [3, heads, T, headDim]; q, k, v by Gather on the first axis.
        var qkv = TokenLinearOnnx.Add(graph, layers[0], LayerNorm(graph, block.Norm1, x, prefix + ".norm1"), prefix + ".qkv", tokens);
        var split = OnnxNodes.Reshape(graph, qkv, prefix + ".heads", tokens, 3, shape.Heads, shape.HeadDimension);
        var parts = OnnxNodes.Transpose(graph, split, prefix + ".qkv_first", 1, 2, 0, 3);
        string Part(int i, string name) => Node(graph, "Gather", $"{prefix}.{name}", parts, ScalarIndex(graph, $"{prefix}.{name}.index", i));
        var (q, k, v) = (Part(0, "q"), Part(1, "k"), Part(2, "v"));
        var scores = Node(graph, "MatMul", prefix + ".scores", q, OnnxNodes.Transpose(graph, k, prefix + ".k_t", 0, 2, 1));
        var scaled = Node(graph, "Mul", prefix + ".scale", scores, Constant(graph, prefix + ".scale.value", block.Scale));
        var softmax = OnnxNodes.Add(graph, "Softmax", prefix + ".softmax", scaled);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
        var attended = Node(graph, "MatMul", prefix + ".attend", softmax.Output[0], v);                 // [heads, T, headDim]
        var merged = OnnxNodes.Reshape(graph, OnnxNodes.Transpose(graph, attended, prefix + ".tokens_first", 1, 0, 2), prefix + ".merge", tokens, shape.Dimension);
        x = Node(graph, "Add", prefix + ".residual1", x, TokenLinearOnnx.Add(graph, layers[1], merged, prefix + ".proj", tokens));
        // MLP.
        var hidden = TokenLinearOnnx.Add(graph, layers[2], LayerNorm(graph, block.Norm2, x, prefix + ".norm2"), prefix + ".fc1", tokens);
        var output = TokenLinearOnnx.Add(graph, layers[3], Gelu(graph, hidden, prefix + ".gelu"), prefix + ".fc2", tokens);
        return Node(graph, "Add", prefix + ".residual2", x, output);
    }

    // (x − mean)/√(var + ε)·γ + β over the last axis.
    private static string LayerNorm(GraphProto graph, TorchSharp.Modules.LayerNorm norm, string x, string prefix)
    {
        string Mean(string value, string name)
        {
            var node = OnnxNodes.Add(graph, "ReduceMean", name, value);
            node.Attribute.Add(OnnxNodes.Ints("axes", -1));
            return node.Output[0];
        }
        var centred = Node(graph, "Sub", prefix + ".centre", x, Mean(x, prefix + ".mean"));
        var variance = Mean(Node(graph, "Mul", prefix + ".square", centred, centred), prefix + ".var");
        var std = Node(graph, "Sqrt", prefix + ".std", Node(graph, "Add", prefix + ".eps", variance, Constant(graph, prefix + ".eps.value", EncoderBlock.NormEpsilon)));
        var normalised = Node(graph, "Div", prefix + ".normalise", centred, std);
        using var _ = no_grad();
        var scaled = Node(graph, "Mul", prefix + ".gamma", normalised, OnnxNodes.FloatInitializer(graph, prefix + ".weight", norm.weight!));
        return Node(graph, "Add", prefix + ".beta", scaled, OnnxNodes.FloatInitializer(graph, prefix + ".bias", norm.bias!));
    }

    // x·(1 + erf(x/√2))/2, the exact GELU.
    private static string Gelu(GraphProto graph, string x, string prefix)
    {
        var erf = Node(graph, "Erf", prefix + ".erf", Node(graph, "Div", prefix + ".div", x, Constant(graph, prefix + ".sqrt2", Math.Sqrt(2))));
        var onePlus = Node(graph, "Add", prefix + ".one_plus", erf, Constant(graph, prefix + ".one", 1));
        return Node(graph, "Mul", prefix + ".half", Node(graph, "Mul", prefix + ".times_x", x, onePlus), Constant(graph, prefix + ".half.value", 0.5));
    }

    private static string Node(GraphProto graph, string op, string name, params string[] inputs) => OnnxNodes.Add(graph, op, name, inputs).Output[0];

    private static string Constant(GraphProto graph, string name, double value)
    {
        using var scalar = tensor((float)value);
        return OnnxNodes.FloatInitializer(graph, name, scalar);
    }

    // A 0-d int64 index: Gather with it drops the gathered axis.
    private static string ScalarIndex(GraphProto graph, string name, long value)
    {
        var index = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        index.Int64Data.Add(value);
        graph.Initializer.Add(index);
        return name;
    }
}
