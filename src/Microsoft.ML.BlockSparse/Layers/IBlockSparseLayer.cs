using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>A linear layer of the network: either Kronecker-factored or (when its sizes cannot be factored) dense.</summary>
internal interface IBlockSparseLayer : IOnnxLayer
{
    int InFeatures { get; }
    int OutFeatures { get; }

    /// <summary>The dense weight this layer represents, <c>out × in</c>. For tests, export and reporting only.</summary>
    Tensor MaterializeWeight();

    Tensor Bias { get; }

    /// <summary>Starts from a trained dense layer (<c>out × in</c> weight, <c>out</c> bias, on this layer's device).</summary>
    void InitializeFrom(Tensor weight, Tensor bias);

    /// <summary>Counts for the sparsity report, read from the layer's current factors.</summary>
    Reporting.LayerSparsity Describe(int index);
}
