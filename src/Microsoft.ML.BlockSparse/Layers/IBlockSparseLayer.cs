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

    /// <summary>
    /// The layer, bias included, on inputs laid out one column per row: <c>[in, N]</c> to <c>[out, N]</c>, equal to
    /// <c>forward(input.t()).t()</c>. A stack of linear layers runs in this layout (<see cref="Network.BlockSparseNetwork"/>),
    /// because there a factored layer is two products on memory as it lies, with no copies between them.
    /// </summary>
    Tensor ForwardColumns(Tensor columns);

    /// <summary>Starts from a trained dense layer (<c>out × in</c> weight, <c>out</c> bias, on this layer's device).</summary>
    void InitializeFrom(Tensor weight, Tensor bias);

    /// <summary>Counts for the sparsity report, read from the layer's current factors.</summary>
    Reporting.LayerSparsity Describe(int index);
}
