using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// Factors with one gate per block (<c>S</c>), whatever layer they belong to (a linear layer's candidate,
/// a factored convolution): what λ1's proximal step, hard pruning and the persistent gate mask act on
/// (all of them in <c>Sparsity/</c>).
/// </summary>
internal interface IGatedBlocks
{
    /// <summary><c>S</c>: one gate per block.</summary>
    Parameter Gate { get; }

    /// <summary>1 where a block may be non-zero, 0 where hard pruning removed it for good (a buffer, shaped like <see cref="Gate"/>).</summary>
    Tensor GateMask { get; }
}
