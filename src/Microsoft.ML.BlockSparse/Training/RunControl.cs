using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.BlockSparse.Checkpoints;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// What a run does besides training: stop on request, check on held-out rows, keep the best epoch,
/// write checkpoints, continue from one. All optional; <see cref="None"/> turns everything off.
/// </summary>
internal sealed record RunControl
{
    public static readonly RunControl None = new();

    /// <summary>Checked before every batch; cancelling throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Where a checkpoint goes after every epoch; null for none.</summary>
    public CheckpointStore? Checkpoints { get; init; }

    /// <summary>The checkpoint to continue from, already checked against <see cref="Fingerprint"/>; null to start afresh.</summary>
    public Checkpoint? Resume { get; init; }

    /// <summary>Held-out rows scored after every epoch, on the training device; null for none.</summary>
    public IRowBatches? Validation { get; init; }

    /// <summary>Epochs without a better validation accuracy before training stops; 0 for no early stopping.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>The settings and data of this run, written into every checkpoint.</summary>
    public SortedDictionary<string, string> Fingerprint { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>Features <c>[N, in]</c> and class indices <c>[N]</c> (int64), on one device.</summary>
internal sealed record LabelledRows(Tensor Features, Tensor Labels) : IDisposable
{
    public long Count => Labels.shape[0];

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}
