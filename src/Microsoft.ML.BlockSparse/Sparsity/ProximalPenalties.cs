using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>
/// The proximal steps of the three penalties, each taken right after Adam's step and in Adam's metric
/// (see <see cref="IProximalMetric"/>), so each λ is on the scale of the loss gradient: a gate, a
/// candidate or a block goes to exactly zero when its smoothed gradient (norm) stays below λ.
/// </summary>
internal static class ProximalPenalties
{
    /// <summary>λ1·‖S‖₁ on every gate: a per-entry soft threshold, <c>τ = lr·λ1/(√v̂+ε)</c>.</summary>
    public static void GateL1(IEnumerable<IGatedBlocks> factors, IProximalMetric optimizer, double learningRate, double lambda1)
    {
        if (lambda1 <= 0)
            return;
        using var _ = no_grad();
        using var step = Scalars.Of(learningRate * lambda1);
        var gates = factors.Select(f => f.Gate).ToList();
        if (optimizer.TryContiguous(gates, out var values, out var metric))
        {
            // All gates side by side in the optimiser's buffer: one soft threshold for the whole network.
            using var scope = NewDisposeScope();
            SoftThreshold.Apply(values, metric.reciprocal().mul_(step));
            return;
        }
        foreach (var gate in gates)
        {
            using var scope = NewDisposeScope();
            SoftThreshold.Apply(gate, optimizer.Metric(gate).reciprocal().mul_(step));
        }
    }

    /// <summary>
    /// λ2·Σ_c ‖θ_c‖₂ over the candidates of every layer that still has more than one: the group soft
    /// threshold <c>θ_c ← θ_c·max(0, 1 − τ_c/‖θ_c‖)</c>. A diagonal metric has no closed-form group
    /// prox, so <c>τ_c = lr·λ2/d̄_c</c> uses the mean of Adam's metric over the group. The leading
    /// candidate of a layer (the largest share of the weight, <see cref="KroneckerFactors.WeightNorm"/>) is exempt: λ2 is there to choose among the candidates, and a
    /// λ2 large enough to collapse all of them at once would otherwise leave the layer dead. A layer
    /// with one candidate left is not penalised at all.
    /// </summary>
    public static void CandidateGroups(IEnumerable<KroneckerLinear> layers, IProximalMetric optimizer, double learningRate, double lambda2)
    {
        if (lambda2 <= 0)
            return;
        using var _ = no_grad();
        foreach (var layer in layers)
        {
            var live = layer.LiveCandidates;
            if (live.Count < 2)
                continue;
            using var scope = NewDisposeScope();
            var norms = stack(live.Select(c => c.Group.Select(p => p.pow(Scalars.Two).sum()).Aggregate((a, b) => a.add(b, Scalars.One))).ToArray()).sqrt();
            var metricMeans = stack(live.Select(c =>
            {
                using var size = Scalars.Of(c.Group.Sum(p => p.numel()));
                return c.Group.Select(p => optimizer.Metric(p).sum()).Aggregate((a, b) => a.add(b, Scalars.One)).div(size);
            }).ToArray());
            using var step = Scalars.Of(learningRate * lambda2);
            var thresholds = metricMeans.reciprocal().mul_(step);
            // The leader gets a zero threshold (scale 1); the comparison stays on the device.
            var shares = stack(live.Select(c => c.WeightNorm()).ToArray());
            thresholds.mul_(shares.eq(shares.max()).logical_not().to_type(thresholds.dtype));
            var scales = Shrink(norms, thresholds);
            for (int c = 0; c < live.Count; c++)
            {
                var scale = scales[c];
                foreach (var parameter in live[c].Group)
                    parameter.mul_(scale);
            }
        }
    }

    /// <summary>
    /// The group-lasso baseline's λ·Σ_blocks ‖W_block‖_F: every block shrunk toward zero by
    /// <c>τ = lr·λ/d̄_block</c>, with <c>d̄_block</c> the mean of Adam's metric over the block.
    /// </summary>
    public static void WeightBlocks(IEnumerable<DenseLinear> layers, IProximalMetric optimizer, double learningRate, double lambda)
    {
        if (lambda <= 0)
            return;
        using var _ = no_grad();
        foreach (var layer in layers)
        {
            using var scope = NewDisposeScope();
            var blocks = layer.BlockView(layer.Weight);
            var norms = blocks.pow(Scalars.Two).sum([1, 3]).sqrt();
            var meanMetric = layer.BlockView(optimizer.Metric(layer.Weight)).mean([1, 3]);
            using var step = Scalars.Of(learningRate * lambda);
            var scale = Shrink(norms, meanMetric.reciprocal().mul_(step));
            blocks.mul_(scale.unsqueeze(1).unsqueeze(3));
        }
    }

    /// <summary><c>max(0, 1 − τ/‖θ‖)</c>, 0 where the norm is already 0.</summary>
    private static Tensor Shrink(Tensor norm, Tensor threshold)
        => threshold.div(norm.clamp_min(Tiny)).neg_().add_(Scalars.One, Scalars.One).clamp_min_(Scalars.Zero);

    // A norm floor that keeps a zero group's division finite (its scale then clamps to 0).
    private static readonly TorchSharp.Scalar Tiny = Scalars.Of(1e-30);
}
