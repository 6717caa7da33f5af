using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class KroneckerConvOnnxTests
{
    [Theory]
    [MemberData(nameof(KroneckerConv2dTests.Cases), MemberType = typeof(KroneckerConv2dTests))]
    public void OnnxRuntimeGivesTheLayersForward(KroneckerConv2dTests.ConvCase c)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(21);
        var layer = KroneckerConv2dTests.RandomisedLayer(c, generator);
        using (no_grad())
            layer.Gate[0, 0] = 0;   // an exact zero block, as after pruning
        var (ho, wo) = layer.Output;

        var graph = new GraphProto { Name = "conv" };
        graph.Input.Add(OnnxNodes.FloatValueInfo("x", c.Cin, c.H, c.W));
        graph.Output.Add(OnnxNodes.FloatValueInfo("y", c.Cout, ho, wo));
        var output = layer.AddOnnxNodes(graph, "x", "conv0");
        OnnxNodes.Add(graph, "Identity", "y.identity", output).Output[0] = "y";

        // The file holds the factors only: B, S ⊙ A of the non-zero blocks and the bias, never the Cout·Cin·kh·kw
        // kernel; a layer whose only block is zero is its bias, one constant map per channel.
        long stored = graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float).Sum(t => (long)t.FloatData.Count);
        long nonZero = layer.GridRows * layer.GridColumns - 1;
        Assert.Equal(nonZero == 0 ? c.Cout + c.Cout * ho * wo : c.Rank * c.M * c.N * c.Kh * c.Kw + nonZero * c.Rank + c.Cout, stored);

        var input = randn([3, c.Cin, c.H, c.W], generator: generator);
        torch.Tensor expected;
        using (no_grad())
            expected = layer.call(input);
        using var session = new InferenceSession(OnnxNodes.ModelBytes(graph));
        for (int row = 0; row < 3; row++)
        {
            var values = input[row].contiguous().data<float>().ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(values, [c.Cin, c.H, c.W]))]);
            var y = results.Single().AsTensor<float>();
            Assert.Equal([c.Cout, ho, wo], y.Dimensions.ToArray());
            var actual = tensor(y.ToArray(), [c.Cout, ho, wo]);
            KroneckerLinearTests.AssertClose(expected[row], actual, 1e-4);
        }
    }
}
