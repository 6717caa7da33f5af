using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>The group-lasso baseline's pruning, once after training, of a dense layer's weight blocks.</summary>
internal static class BlockPruning
{
    /// <summary>
    /// Zeroes every block whose Frobenius norm is at most <paramref name="threshold"/>, and, when
    /// <paramref name="targetSparsity"/> is given, also the smallest blocks until that fraction is zero.
    /// </summary>
    public static void PruneBlocks(this DenseLinear layer, double threshold, double? targetSparsity)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var norms = layer.BlockNorms();
        using var thresholdScalar = Scalars.Of(threshold);
        var keep = norms.gt(thresholdScalar);
        if (targetSparsity is { } target)
        {
            long total = norms.numel(), zero = (long)Math.Round(target * total);
            if (zero > 0)
            {
                var cutoff = norms.flatten().sort().Values[zero - 1];
                keep = keep.logical_and(norms.gt(cutoff));
            }
        }
        layer.BlockView(layer.Weight).mul_(keep.to_type(layer.Weight.dtype).unsqueeze(1).unsqueeze(3));
    }
}
