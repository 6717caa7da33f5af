using Microsoft.ML.BlockSparse.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>The persistent gate mask of hard pruning, shared by every layer kind with block gates.</summary>
internal static class GateMasking
{
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
