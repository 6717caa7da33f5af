using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Adam, whose per-coordinate metric the proximal steps of the penalties then use
/// (<see cref="Sparsity.ProximalPenalties"/>, through <see cref="IProximalMetric"/>).
/// </summary>
/// <remarks>
/// Adam moves each coordinate by <c>lr·m̂/(√v̂+ε)</c>, that is a gradient step in the metric
/// <c>D = diag(√v̂+ε)</c>. The proximal operator of the L1 norm in that same metric is a soft
/// threshold with <c>τ = lr·λ1/(√v̂+ε)</c> per coordinate (docs/method.md's <c>lr·λ1</c> for plain SGD,
/// where <c>D = 1</c>). With a fixed <c>τ = lr·λ1</c> under Adam the shrinkage would be thousands of
/// times smaller than the step and no gate would ever reach zero; in Adam's metric a gate goes to
/// exactly zero when its smoothed gradient stays below λ1 in magnitude. So the optimiser keeps
/// <c>√v̂+ε</c> of its last step for them (<see cref="Metric"/>).
/// </remarks>
internal sealed class ProximalAdam : IProximalMetric, IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    // Held for the optimiser's lifetime: a temporary Scalar could be finalised mid-call (see Scalars).
    private static readonly Scalar Beta1Scalar = Scalars.Of(Beta1), Beta2Scalar = Scalars.Of(Beta2), EpsilonScalar = Scalars.Of(Epsilon),
        OneMinusBeta1 = Scalars.Of(1 - Beta1), OneMinusBeta2 = Scalars.Of(1 - Beta2);
    private readonly List<Slot> slots = new();
    private readonly Dictionary<Parameter, Slot> byParameter = new(ReferenceEqualityComparer.Instance);
    // Every parameter, its gradient, its moments and its metric live in one flat buffer each (the
    // parameters and their .grad become views into theirs; backward accumulates into a .grad in place),
    // so zeroing the gradients and a step are a handful of whole-buffer operations instead of ten per
    // parameter: with small factored layers the per-operation overhead, not arithmetic, is the cost.
    private readonly Tensor values, grads, mean, variance, metric;
    private long steps;

    public ProximalAdam(IEnumerable<Parameter> parameters)
    {
        var list = parameters.ToList();
        if (list.Count == 0)
            throw new ArgumentException("Nothing to optimise: no parameters.", nameof(parameters));
        var first = list[0];
        long total = list.Sum(p => p.numel());
        values = empty(total, dtype: first.dtype, device: first.device);
        grads = zeros(total, dtype: first.dtype, device: first.device);
        mean = zeros(total, dtype: first.dtype, device: first.device);
        variance = zeros(total, dtype: first.dtype, device: first.device);
        metric = ones(total, dtype: first.dtype, device: first.device);
        long offset = 0;
        using (no_grad())
        {
            foreach (var p in list)
            {
                long size = p.numel();
                var shape = p.shape;
                using (var view = FlatView.Of(values, offset, shape))
                {
                    view.copy_(p);
                    // set_ hands back a wrapper of the parameter's own native handle: disposing or finalising
                    // it would free the parameter under the module's feet.
                    var alias = p.set_(view);
                    if (alias.Handle == p.Handle)
                        GC.SuppressFinalize(alias);
                    else
                        alias.Dispose();
                }
                var grad = FlatView.Of(grads, offset, shape);
                p.grad = grad;
                var slot = new Slot(p, offset, size, grad,
                    FlatView.Of(mean, offset, shape), FlatView.Of(variance, offset, shape), FlatView.Of(metric, offset, shape));
                slots.Add(slot);
                byParameter.Add(p, slot);
                offset += size;
            }
        }
    }

    /// <summary>Steps taken so far.</summary>
    public long Steps => steps;

    /// <summary>One Adam step on every parameter that is still trained (retired candidates are not).</summary>
    public void Step(double learningRate)
    {
        steps++;
        double correction1 = 1 - Math.Pow(Beta1, steps);
        double correction2 = 1 - Math.Pow(Beta2, steps);
        using var _ = no_grad();
        foreach (var slot in slots)
        {
            // A frozen parameter (a retired candidate) gets no gradient and must keep no momentum either,
            // or Adam would move it away from zero.
            if (!slot.Parameter.requires_grad)
                slot.Mean.fill_(Scalars.Zero);
        }
        var g = grads;
        using var secondCorrection = Scalars.Of(correction2);
        using var stepSize = Scalars.Of(-learningRate / correction1);
        mean.mul_(Beta1Scalar).add_(g, alpha: OneMinusBeta1);
        variance.mul_(Beta2Scalar).addcmul_(g, g, value: OneMinusBeta2);
        metric.copy_(variance).div_(secondCorrection).sqrt_().add_(EpsilonScalar, Scalars.One);
        values.addcdiv_(mean, metric, value: stepSize);
    }

    /// <summary><c>√v̂+ε</c> of <paramref name="parameter"/> after the last step: the metric Adam stepped in.</summary>
    public Tensor Metric(Parameter parameter) => byParameter[parameter].Metric;

    /// <summary>Steps taken so far (the bias correction depends on it); checkpoints save and restore it.</summary>
    public long StepCount
    {
        get => steps;
        set => steps = value;
    }

    /// <summary>Each parameter's first and second moment, for checkpoints (views: restoring them in place restores the optimiser).</summary>
    public IEnumerable<(Parameter Parameter, Tensor Mean, Tensor Variance)> Moments
        => slots.Select(s => (s.Parameter, s.Mean, s.Variance));

    public void ZeroGrad() => grads.fill_(Scalars.Zero);

    /// <summary>
    /// The values and metric of <paramref name="parameters"/> as one flat view each, when they lie next to
    /// each other in this order in the optimiser's buffer (the trainer puts all gates first), so a penalty
    /// can treat them in one operation; false otherwise.
    /// </summary>
    public bool TryContiguous(IReadOnlyList<Parameter> parameters, out Tensor values, out Tensor metric)
    {
        values = metric = null!;
        if (parameters.Count == 0)
            return false;
        long start = byParameter[parameters[0]].Offset, next = start;
        foreach (var p in parameters)
        {
            var slot = byParameter[p];
            if (slot.Offset != next)
                return false;
            next += slot.Size;
        }
        values = this.values.narrow(0, start, next - start);
        metric = this.metric.narrow(0, start, next - start);
        return true;
    }

    public void Dispose()
    {
        foreach (var slot in slots)
        {
            slot.Grad.Dispose();
            slot.Mean.Dispose();
            slot.Variance.Dispose();
            slot.Metric.Dispose();
        }
        slots.Clear();
        byParameter.Clear();
        mean.Dispose();
        variance.Dispose();
        grads.Dispose();
        metric.Dispose();
        // The parameters still view `values`: it stays alive through them.
        values.Dispose();
    }

    private sealed record Slot(Parameter Parameter, long Offset, long Size, Tensor Grad, Tensor Mean, Tensor Variance, Tensor Metric);
}
