namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Training stopped because the loss (or a weight) stopped being a finite number: continuing would
/// only produce a model full of NaN. The message says where and what to change.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string message, int epoch, long? batch)
        : base(message)
    {
        Epoch = epoch;
        Batch = batch;
    }

    /// <summary>The 1-based epoch in which training diverged.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based batch of that epoch whose loss was not finite; null when the weights went non-finite after the epoch's last step.</summary>
    public long? Batch { get; }
}
