using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>
/// Every gate mask of the network as a view into one buffer, laid out like the gates at the front of
/// the optimiser's buffer (<see cref="IProximalMetric.TryContiguous"/>), so keeping pruned blocks at zero after a step is one operation
/// instead of one per layer. The layers still own their masks (pruning, checkpoints and restores write
/// them in place, and so into this buffer).
/// </summary>
internal sealed class FlatGateMasks : IDisposable
{
    private readonly Tensor masks;

    public FlatGateMasks(IReadOnlyList<IGatedBlocks> blocks)
    {
        long total = blocks.Sum(b => b.GateMask.numel());
        var first = blocks.Count > 0 ? blocks[0].GateMask : null;
        masks = ones(total, dtype: first?.dtype ?? ScalarType.Float32, device: first?.device ?? CPU);
        long offset = 0;
        using var _ = no_grad();
        foreach (var block in blocks)
        {
            var mask = block.GateMask;
            long size = mask.numel();
            using (var view = FlatView.Of(masks, offset, mask.shape))
            {
                view.copy_(mask);
                // As for parameters: set_ hands back a wrapper of the buffer's own handle.
                var alias = mask.set_(view);
                if (alias.Handle == mask.Handle)
                    GC.SuppressFinalize(alias);
                else
                    alias.Dispose();
            }
            offset += size;
        }
    }

    /// <summary>All masks, in the order the blocks were given.</summary>
    public Tensor Values => masks;

    public void Dispose() => masks.Dispose();
}
