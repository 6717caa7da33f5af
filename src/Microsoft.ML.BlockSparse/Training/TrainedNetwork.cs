using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Reporting;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>What training hands back: the network (owned: disposing this disposes it), its history and the epoch whose weights it holds.</summary>
internal sealed class TrainedNetwork(BlockSparseNetwork network, IReadOnlyList<EpochSummary> history, int keptEpoch) : IDisposable
{
    public BlockSparseNetwork Network { get; } = network;
    public IReadOnlyList<EpochSummary> History { get; } = history;
    public int KeptEpoch { get; } = keptEpoch;

    /// <summary>Each layer's dense weight and bias on the host: what a <see cref="BlockSparseMethod.Dense"/> run gives.</summary>
    public IReadOnlyList<DenseLayerWeights> DenseWeights() => Network.Layers.Select(DenseLayerWeightsOf).ToList();

    private static DenseLayerWeights DenseLayerWeightsOf(IBlockSparseLayer layer)
    {
        using var scope = NewDisposeScope();
        var hostWeight = layer.MaterializeWeight().detach().to(CPU).contiguous();
        var hostBias = layer.Bias.detach().to(CPU).contiguous();
        return new DenseLayerWeights(hostWeight.data<float>().ToArray(), hostBias.data<float>().ToArray());
    }

    public void Dispose() => Network.Dispose();
}
