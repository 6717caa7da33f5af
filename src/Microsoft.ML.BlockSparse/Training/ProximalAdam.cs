using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Adam, whose per-coordinate metric the proximal steps of the penalties then use
/// (<see cref="Regularization.ProximalPenalties"/>).
/// </summary>
/// <remarks>
/// Adam moves each coordinate by <c>lr·m̂/(√v̂+ε)</c>, that is a gradient step in the metric
/// <c>D = diag(√v̂+ε)</c>. The proximal operator of the L1 norm in that same metric is a soft
/// threshold with <c>τ = lr·λ1/(√v̂+ε)</c> per coordinate (METHOD.md's <c>lr·λ1</c> for plain SGD,
/// where <c>D = 1</c>). With a fixed <c>τ = lr·λ1</c> under Adam the shrinkage would be thousands of
/// times smaller than the step and no gate would ever reach zero; in Adam's metric a gate goes to
/// exactly zero when its smoothed gradient stays below λ1 in magnitude. So the optimiser keeps
/// <c>√v̂+ε</c> of its last step for them (<see cref="Metric"/>).
/// </remarks>
internal sealed class ProximalAdam : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly List<Slot> slots = new();
    private readonly Dictionary<Parameter, Slot> byParameter = new(ReferenceEqualityComparer.Instance);
    private long steps;

    public ProximalAdam(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            var slot = new Slot(p, zeros_like(p), zeros_like(p), ones_like(p));
            slots.Add(slot);
            byParameter.Add(p, slot);
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
            var grad = slot.Parameter.grad;
            if (grad is null || !slot.Parameter.requires_grad)
                continue;
            using var scope = NewDisposeScope();
            slot.Mean.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
            slot.Variance.mul_(Beta2).addcmul_(grad, grad, value: 1 - Beta2);
            slot.Metric.copy_(slot.Variance.div(correction2).sqrt_().add_(Epsilon));
            slot.Parameter.addcdiv_(slot.Mean, slot.Metric, value: -learningRate / correction1);
        }
    }

    /// <summary><c>√v̂+ε</c> of <paramref name="parameter"/> after the last step: the metric Adam stepped in.</summary>
    public Tensor Metric(Parameter parameter) => byParameter[parameter].Metric;

    /// <summary>Steps taken so far (the bias correction depends on it); checkpoints save and restore it.</summary>
    public long StepCount
    {
        get => steps;
        set => steps = value;
    }

    /// <summary>Each parameter's first and second moment, for checkpoints (restored in place).</summary>
    public IEnumerable<(Parameter Parameter, Tensor Mean, Tensor Variance)> Moments
        => slots.Select(s => (s.Parameter, s.Mean, s.Variance));

    public void ZeroGrad()
    {
        foreach (var slot in slots)
            slot.Parameter.grad?.zero_();
    }

    public void Dispose()
    {
        foreach (var slot in slots)
        {
            slot.Mean.Dispose();
            slot.Variance.Dispose();
            slot.Metric.Dispose();
        }
        slots.Clear();
        byParameter.Clear();
    }

    private sealed record Slot(Parameter Parameter, Tensor Mean, Tensor Variance, Tensor Metric);
}
