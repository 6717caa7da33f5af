namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>An <see cref="IProgress{T}"/> that runs an action synchronously, as the trainer calls it.</summary>
internal sealed class OnEpoch(Action<EpochSummary> action) : IProgress<EpochSummary>
{
    public void Report(EpochSummary value) => action(value);
}
