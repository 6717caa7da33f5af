using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The exported ONNX network, run row by row in ONNX Runtime, against the TorchSharp network's softmax.</summary>
internal static class OnnxScores
{
    public static void AssertEqualToNetwork(BlockSparseNetwork network, TorchSharp.torch.Tensor input)
    {
        network.eval();
        using var expected = nn.functional.softmax(network.call(input), 1);
        using var session = new InferenceSession(OnnxExporter.Export(network, "Features"));
        long length = input.shape[1], classes = expected.shape[1];
        for (int row = 0; row < input.shape[0]; row++)
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(input[row].data<float>().ToArray(), [(int)length]))]);
            var score = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
            var want = expected[row].data<float>().ToArray();
            Assert.Equal(classes, score.Length);
            for (int c = 0; c < classes; c++)
                Assert.True(Math.Abs(want[c] - score[c]) < 1e-5, $"row {row} class {c}: torch {want[c]} onnx {score[c]}");
        }
    }
}
