using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// Factors with one gate per block (<c>S</c>), whatever layer they belong to (a linear layer's candidate,
/// a factored convolution): what λ1's proximal step, hard pruning and the persistent gate mask act on.
/// </summary>
internal interface IGatedBlocks
{
    /// <summary><c>S</c>: one gate per block.</summary>
    Parameter Gate { get; }

    /// <summary>1 where a block may be non-zero, 0 where hard pruning removed it for good (a buffer, shaped like <see cref="Gate"/>).</summary>
    Tensor GateMask { get; }

    /// <summary>Zeroes the gates of blocks that hard pruning removed, so they stay zero.</summary>
    void ApplyGateMask();

    /// <summary>Removes for good every block whose gate magnitude is at most <paramref name="threshold"/>.</summary>
    void PruneGatesBelow(double threshold);
}
