using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// Small builders for ONNX graphs (OnnxSharp's protobuf types): nodes, initialisers from tensors,
/// typed inputs and outputs. Each node's output is named after the node, <c>NAME.out</c>.
/// </summary>
internal static class OnnxNodes
{
    /// <summary>The operator set the exported graphs use (16: ScatterND with <c>reduction</c>, see <see cref="BlockMixingOnnx"/>).</summary>
    public const int OpsetVersion = BlockMixingOnnx.MinimumOpset;

    public static NodeProto Add(GraphProto graph, string op, string name, params string[] inputs)
    {
        var node = new NodeProto { OpType = op, Name = name, Output = { name + ".out" } };
        node.Input.AddRange(inputs);
        graph.Node.Add(node);
        return node;
    }

    public static string Reshape(GraphProto graph, string input, string name, params long[] shape)
        => Add(graph, "Reshape", name, input, Int64Initializer(graph, name + ".shape", shape)).Output[0];

    public static string Transpose(GraphProto graph, string input, string name, params long[] permutation)
    {
        var node = Add(graph, "Transpose", name, input);
        node.Attribute.Add(Ints("perm", permutation));
        return node.Output[0];
    }

    public static AttributeProto Ints(string name, params long[] values)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    public static string Int64Initializer(GraphProto graph, string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length } };
        tensor.Int64Data.AddRange(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Stores <paramref name="value"/> (any device or float type) as a float32 initialiser.</summary>
    public static string FloatInitializer(GraphProto graph, string name, Tensor value)
    {
        // Each step may make a new tensor: the scope disposes them all, not the finaliser.
        using var scope = NewDisposeScope();
        var cpu = value.detach().to(CPU).contiguous().to_type(ScalarType.Float32);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(cpu.shape);
        tensor.FloatData.AddRange(cpu.data<float>().ToArray());
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A float tensor input or output of known shape.</summary>
    public static ValueInfoProto FloatValueInfo(string name, params long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var side in shape)
            tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = side });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } },
        };
    }

    /// <summary>The serialised model around <paramref name="graph"/>.</summary>
    public static byte[] ModelBytes(GraphProto graph)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Microsoft.ML.BlockSparse",
            ProducerVersion = typeof(OnnxNodes).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model.ToByteArray();
    }
}
