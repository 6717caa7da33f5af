namespace Microsoft.ML.BlockSparse.Regularization;

/// <summary>
/// λ1 as a step function of the epoch: <c>Start + Increment · ⌊epoch / EveryEpochs⌋</c>
/// (METHOD.md: 0.01, raised by 0.002 every 5 epochs on MNIST).
/// </summary>
internal readonly record struct L1Schedule(double Start, double Increment, int EveryEpochs)
{
    public double At(int epoch) => Start + Increment * (epoch / Math.Max(1, EveryEpochs));
}
