using Microsoft.ML.BlockSparse.Network;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Moving a network (to CUDA, or here to float64, which takes the same path) replaces its parameter
/// tensors. The layers' own references must follow, or the optimiser would find no gates to sparsify.
/// </summary>
public class NetworkDeviceTests
{
    [Fact]
    public void MovedNetworkStillExposesTheParametersItTrains()
    {
        var plan = LayerPlan.ForMlp(784, [300, 100], 10, 2, null, null);
        using var network = new BlockSparseNetwork(plan, 1);
        network.to(ScalarType.Float64);

        var trained = new HashSet<Tensor>(network.parameters(), ReferenceEqualityComparer.Instance);
        foreach (var layer in network.FactoredLayers)
        {
            Assert.Contains(layer.Gate, trained);
            Assert.Contains(layer.Left, trained);
            Assert.Contains(layer.Right, trained);
            Assert.Equal(ScalarType.Float64, layer.Gate.dtype);
            Assert.Equal(ScalarType.Float64, layer.GateMask.dtype);
        }
        using var output = network.call(randn([3, 784], dtype: ScalarType.Float64));
        Assert.Equal(new long[] { 3, 10 }, output.shape);
    }
}
