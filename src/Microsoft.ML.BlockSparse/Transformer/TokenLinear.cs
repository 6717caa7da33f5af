using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Transformer;

/// <summary>
/// Builds the linear layers of a transformer from their plans, and applies one to every token: the layers read
/// rows (<c>[N, in]</c>), so the tokens are folded into the batch around them (<c>[N, T, in]</c> to
/// <c>[N·T, in]</c> and back), which changes nothing in how a factored layer computes.
/// </summary>
internal static class TokenLinear
{
    /// <summary>A factored layer where the plan says so, else a dense one (with its group-lasso block, if any).</summary>
    public static nn.Module<Tensor, Tensor> Build(string name, LayerPlan plan, Generator generator)
        => plan.Factored
            ? new KroneckerLinear(name, plan.InFeatures, plan.OutFeatures, plan.Candidates, plan.Rank, generator) { PlanNote = plan.Note }
            : new DenseLinear(name, plan.InFeatures, plan.OutFeatures, plan.DenseReason!, generator, plan.PenaltyBlock);

    /// <summary><paramref name="layer"/> on every token of <paramref name="tokens"/> (<c>[N, T, in]</c>), giving <c>[N, T, out]</c>.</summary>
    public static Tensor Apply(nn.Module<Tensor, Tensor> layer, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        long n = tokens.shape[0], t = tokens.shape[1];
        var output = layer.call(tokens.reshape(n * t, tokens.shape[2]));
        return output.view(n, t, output.shape[1]).MoveToOuterDisposeScope();
    }
}
