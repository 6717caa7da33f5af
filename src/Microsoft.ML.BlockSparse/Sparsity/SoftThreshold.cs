using Microsoft.ML.BlockSparse.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>The proximal operator of the L1 norm: <c>sign(x)·max(|x| − τ, 0)</c>, in place.</summary>
internal static class SoftThreshold
{
    /// <param name="values">Updated in place; must not require grad tracking here (call under no_grad).</param>
    /// <param name="threshold">τ, a scalar tensor or one of the same shape as <paramref name="values"/>.</param>
    public static void Apply(Tensor values, Tensor threshold)
    {
        using var scope = NewDisposeScope();
        var shrunk = values.abs().sub_(threshold).clamp_min_(Scalars.Zero);
        values.copy_(values.sign().mul_(shrunk));
    }
}
