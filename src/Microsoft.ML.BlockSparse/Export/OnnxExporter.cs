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
/// Each layer writes its own nodes (<see cref="Layers.IOnnxLayer"/>); factored layers are exported in factored
/// and pruned form (<c>B</c>, and <c>S ⊙ A</c> of the non-zero blocks only; input groups that no non-zero block
/// reads are never projected, see <see cref="BlockMixingOnnx"/>), so the file holds the small factors, never the
/// dense weight, and the model does exactly the report's inference FLOPs. The graph has no batch dimension on purpose: ML.NET's
/// OnnxTransformer runs one row per call and turns every output dimension into a vector dimension,
/// so a batch axis would make <c>Score</c> a 2-D vector that the evaluators reject.
/// </remarks>
internal static class OnnxExporter
{
    public const string ScoreName = ScoringColumns.Score;

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
            current = layers[i].AddOnnxNodes(graph, current, prefix);
            if (i + 1 < layers.Count)
                current = AddNode(graph, "Relu", prefix + ".relu", current);
        }
        var softmax = new NodeProto { OpType = "Softmax", Name = "softmax", Input = { current }, Output = { ScoreName } };
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        graph.Node.Add(softmax);

        return OnnxNodes.ModelBytes(graph);
    }

    private static string AddNode(GraphProto graph, string op, string name, params string[] inputs)
        => OnnxNodes.Add(graph, op, name, inputs).Output[0];

    private static ValueInfoProto FloatValueInfo(string name, long length) => OnnxNodes.FloatValueInfo(name, length);
}
