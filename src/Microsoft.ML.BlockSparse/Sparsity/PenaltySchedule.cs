namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>
/// A penalty weight (λ1 or λ2) as a step function of the epoch: <c>Start + Increment · ⌊epoch / EveryEpochs⌋</c>
/// (docs/method.md: 0.01, raised by 0.002 every 5 epochs on MNIST).
/// </summary>
internal readonly record struct PenaltySchedule(double Start, double Increment, int EveryEpochs)
{
    public double At(int epoch) => Start + Increment * (epoch / Math.Max(1, EveryEpochs));
}
