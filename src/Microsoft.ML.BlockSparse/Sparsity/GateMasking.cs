using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>
/// The persistent gate mask of hard pruning, for every layer kind with block gates: the layer only holds
/// its gate and mask (<see cref="IGatedBlocks"/>), and what is done with them lives here.
/// </summary>
internal static class GateMasking
{
    /// <summary>Zeroes the gates of blocks that hard pruning removed, so they stay zero.</summary>
    public static void ApplyGateMask(this IGatedBlocks blocks) => Apply(blocks.Gate, blocks.GateMask);

    /// <summary>Removes for good every block whose gate magnitude is at most <paramref name="threshold"/>.</summary>
    public static void PruneGatesBelow(this IGatedBlocks blocks, double threshold) => Prune(blocks.Gate, blocks.GateMask, threshold);

    /// <summary>Zeroes the gates of blocks that hard pruning removed, so they stay zero.</summary>
    public static void Apply(Tensor gate, Tensor mask)
    {
        using var _ = no_grad();
        gate.mul_(mask);
    }

    /// <summary>Removes for good every block whose gate magnitude is at most <paramref name="threshold"/>.</summary>
    public static void Prune(Tensor gate, Tensor mask, double threshold)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var thresholdScalar = Scalars.Of(threshold);
        mask.mul_(gate.abs().gt(thresholdScalar).to_type(mask.dtype));
        gate.mul_(mask);
    }
}
