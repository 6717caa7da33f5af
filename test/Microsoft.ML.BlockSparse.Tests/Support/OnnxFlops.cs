using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Counts the FLOPs one run of an ONNX graph does, from its nodes and the shapes of their values, with the
/// report's conventions (<c>LayerCost</c>): a multiply-add is 2 FLOPs, bias additions are not counted, nor
/// are activations, pooling, softmax or data movement (Reshape, Transpose, Gather, ScatterND placement).
/// </summary>
/// <remarks>
/// The shapes come from running the graph once in ONNX Runtime with every node output made a graph output,
/// so the counter needs no shape inference of its own. Per node:
/// <list type="bullet">
/// <item>MatMul: <c>2·K</c> per output element; Gemm likewise; Conv: <c>2·(Cin/group)·kh·kw</c> per output element;</item>
/// <item>Mul, Div, Sub: one per output element; Add: one per output element unless an operand is an
/// initialiser (a bias addition);</item>
/// <item>ReduceSum: input elements minus output elements; ScatterND / ScatterElements with
/// <c>reduction = add</c>: one per update element;</item>
/// <item>anything else: none.</item>
/// </list>
/// </remarks>
internal static class OnnxFlops
{
    /// <summary>FLOPs per node name, for a graph with one float input of fixed shape.</summary>
    public static IReadOnlyDictionary<string, long> PerNode(byte[] model)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        var graph = proto.Graph;
        var shapes = Shapes(proto);
        var initializers = graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        long[] Shape(string name) => shapes.TryGetValue(name, out var s) ? s : initializers.TryGetValue(name, out var d) ? d
            : throw new InvalidOperationException($"No shape for value '{name}'.");
        static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

        var flops = new Dictionary<string, long>();
        foreach (var node in graph.Node)
        {
            long[] output = node.Output.Count > 0 && shapes.TryGetValue(node.Output[0], out var o) ? o : [];
            flops[node.Name] = node.OpType switch
            {
                "MatMul" => 2 * Count(output) * Shape(node.Input[0])[^1],
                "Gemm" => 2 * Count(output) * (Attribute(node, "transA") == 1 ? Shape(node.Input[0])[0] : Shape(node.Input[0])[1]),
                "Conv" => 2 * Count(output) * Count(Shape(node.Input[1])[1..]),
                "Mul" or "Div" or "Sub" => Count(output),
                "Add" => node.Input.Any(initializers.ContainsKey) ? 0 : Count(output),
                "ReduceSum" => Count(Shape(node.Input[0])) - Count(output),
                "ScatterND" or "ScatterElements" => node.Attribute.Any(a => a.Name == "reduction" && a.S.ToStringUtf8() == "add")
                    ? Count(Shape(node.Input[2])) : 0,
                _ => 0,
            };
        }
        return flops;
    }

    /// <summary>FLOPs of the whole graph.</summary>
    public static long Total(byte[] model) => PerNode(model).Values.Sum();

    /// <summary>FLOPs of the nodes whose name starts with <paramref name="prefix"/> followed by a dot.</summary>
    public static long Of(IReadOnlyDictionary<string, long> perNode, string prefix)
        => perNode.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal)).Sum(kv => kv.Value);

    private static long Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? 0;

    // Runs the graph once on zeros with every node output exposed, and reads each value's shape.
    private static Dictionary<string, long[]> Shapes(ModelProto model)
    {
        var probe = model.Clone();
        var graph = probe.Graph;
        var declared = graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in graph.Node.SelectMany(n => n.Output).Where(n => !declared.Contains(n)))
        {
            graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }
        var input = graph.Input.Single();
        var dims = input.Type.TensorType.Shape.Dim.Select(d => (int)d.DimValue).ToArray();
        using var session = new InferenceSession(probe.ToByteArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input.Name, new DenseTensor<float>(dims))]);
        var shapes = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().Dimensions.ToArray().Select(d => (long)d).ToArray());
        shapes[input.Name] = dims.Select(d => (long)d).ToArray();
        return shapes;
    }
}
