using Microsoft.ML.BlockSparse.Export;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class OnnxExportTests
{
    [Fact]
    public void OnnxScoresEqualTheNetworksSoftmax()
    {
        // Layer 1 stays dense (6x5 does not tile 20 inputs), so both layer kinds and ReLU are exported.
        var plan = LayerPlan.ForMlp(30, [12, 20], 4, 2, null, [new BlockShape(3, 5), new BlockShape(6, 5), new BlockShape(2, 5)]);
        plan = [plan[0], LayerPlan.Dense(plan[1].InFeatures, plan[1].OutFeatures, "test"), plan[2]];
        using var network = new BlockSparseNetwork(plan, 9);
        using (no_grad())
        {
            // Random gates with some exact zeros, as after training.
            foreach (var layer in network.FactoredLayers)
                using (var keep = Scalars.Of(0.3))
                    layer.Gate.copy_(randn(layer.Gate.shape).mul(rand(layer.Gate.shape).gt(keep)));
        }
        using var input = randn(5, 30);
        OnnxScores.AssertEqualToNetwork(network, input);
    }

    [Fact]
    public void OnnxFileHoldsFactorsNotTheDenseWeight()
    {
        var plan = LayerPlan.ForMlp(784, [300, 100], 10, 2, null, null);
        using var network = new BlockSparseNetwork(plan, 1);
        var bytes = OnnxExporter.Export(network, "Features");
        long denseBytes = 4 * network.Report().DenseParameters;
        long factorBytes = 4 * network.Report().TrainableParameters;
        Assert.True(bytes.Length < factorBytes * 2, $"ONNX is {bytes.Length} bytes for {factorBytes} bytes of factors");
        Assert.True(bytes.Length < denseBytes / 10);
    }
}
