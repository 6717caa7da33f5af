using Google.Protobuf;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// Writes a trained network as an ONNX model that scores one row: input <c>[in]</c> named after the
/// feature column, output <c>Score</c> <c>[classes]</c> (softmax probabilities).
/// </summary>
/// <remarks>
/// Factored layers are exported in factored form (<c>B</c> and <c>S ⊙ A</c>), so the file holds the
/// small factors, never the dense weight. The graph has no batch dimension on purpose: ML.NET's
/// OnnxTransformer runs one row per call and turns every output dimension into a vector dimension,
/// so a batch axis would make <c>Score</c> a 2-D vector that the evaluators reject.
/// </remarks>
internal static class OnnxExporter
{
    public const string ScoreName = "Score";

    public static byte[] Export(BlockSparseNetwork network, string inputName)
    {
        var graph = new GraphProto { Name = "BlockSparseNetwork" };
        graph.Input.Add(FloatValueInfo(inputName, network.InputSize));
        graph.Output.Add(FloatValueInfo(ScoreName, network.ClassCount));

        var layers = network.Layers;
        // Convolution stages (LeNet5) turn the flat input into the flat maps the linear layers read.
        string current = network.Image is null ? inputName : ConvStagesOnnx.Add(graph, network, inputName);
        for (int i = 0; i < layers.Count; i++)
        {
            var prefix = $"layer{i}";
            current = layers[i] switch
            {
                KroneckerLinear k => AddKronecker(graph, k, current, prefix),
                DenseLinear d => AddDense(graph, d, current, prefix),
                _ => throw new NotSupportedException($"Cannot export layer type {layers[i].GetType().Name}."),
            };
            if (i + 1 < layers.Count)
                current = AddNode(graph, "Relu", prefix + ".relu", current);
        }
        var softmax = new NodeProto { OpType = "Softmax", Name = "softmax", Input = { current }, Output = { ScoreName } };
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(softmax);

        return OnnxNodes.ModelBytes(graph);
    }

    // The sum over the layer's live candidates of their factored products, plus the bias.
    private static string AddKronecker(GraphProto graph, KroneckerLinear layer, string input, string prefix)
    {
        var live = layer.LiveCandidates;
        string? sum = null;
        for (int c = 0; c < live.Count; c++)
        {
            var branch = AddFactors(graph, live[c], input, live.Count == 1 ? prefix : $"{prefix}.c{c}");
            sum = sum is null ? branch : AddNode(graph, "Add", $"{prefix}.sum{c}", sum, branch);
        }
        using var _ = no_grad();
        return AddNode(graph, "Add", prefix + ".bias", sum!, AddFloatInitializer(graph, prefix + ".b", layer.Bias));
    }

    // y = reshape( C · reshape(transpose(reshape(X·Bcatᵀ, [q, r, m]), [1,0,2]), [r·q, m]), [p·m] )
    private static string AddFactors(GraphProto graph, KroneckerFactors factors, string input, string prefix)
    {
        int m = factors.Block.Rows, n = factors.Block.Columns, p = factors.GridRows, q = factors.GridColumns, r = factors.Rank;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var rightT = factors.Right.reshape(r * m, n).t();       // [n, r·m]
        var mixing = factors.MixingMatrix();                      // [p, r·q], zero blocks included as zeros

        var x = Reshape(graph, input, prefix + ".x", q, n);
        var projected = AddNode(graph, "MatMul", prefix + ".project", x, AddFloatInitializer(graph, prefix + ".B_t", rightT));
        var split = Reshape(graph, projected, prefix + ".split", q, r, m);
        var transposed = AddNode(graph, "Transpose", prefix + ".transpose", split);
        graph.Node[^1].Attribute.Add(new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 0, 2 } });
        var stacked = Reshape(graph, transposed, prefix + ".stack", r * q, m);
        var mixed = AddNode(graph, "MatMul", prefix + ".mix", AddFloatInitializer(graph, prefix + ".SA", mixing), stacked);
        return Reshape(graph, mixed, prefix + ".flat", p * m);
    }

    private static string AddDense(GraphProto graph, DenseLinear layer, string input, string prefix)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var product = AddNode(graph, "MatMul", prefix + ".matmul", input, AddFloatInitializer(graph, prefix + ".W_t", layer.Weight.t()));
        return AddNode(graph, "Add", prefix + ".bias", product, AddFloatInitializer(graph, prefix + ".b", layer.Bias));
    }

    private static string Reshape(GraphProto graph, string input, string name, params long[] shape)
        => OnnxNodes.Reshape(graph, input, name, shape);

    private static string AddNode(GraphProto graph, string op, string name, params string[] inputs)
        => OnnxNodes.Add(graph, op, name, inputs).Output[0];

    private static string AddFloatInitializer(GraphProto graph, string name, Tensor value)
        => OnnxNodes.FloatInitializer(graph, name, value);

    private static ValueInfoProto FloatValueInfo(string name, long length) => OnnxNodes.FloatValueInfo(name, length);
}
