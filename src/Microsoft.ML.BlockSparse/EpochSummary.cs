using System.Globalization;
using System.Text.Json.Serialization;

namespace Microsoft.ML.BlockSparse;

/// <summary>What one training epoch did; reported through <see cref="BlockSparseTrainer.Options.Progress"/>.</summary>
public sealed record EpochSummary
{
    /// <summary>1-based epoch number.</summary>
    public int Epoch { get; init; }

    /// <summary>Epochs in the run.</summary>
    public int Epochs { get; init; }

    /// <summary>Mean cross-entropy over the epoch's mini-batches.</summary>
    public double Loss { get; init; }

    /// <summary>
    /// The gates' L1 penalty <c>λ1·Σ‖S‖₁</c> at the end of the epoch: λ1's part of the objective only (λ2's and the
    /// group-lasso baseline's penalties are not in it), hence the name.
    /// </summary>
    [JsonPropertyName("Penalty")]   // its former name, which checkpoints already written store
    public double GatePenalty { get; init; }

    /// <summary>λ1 used in this epoch.</summary>
    public double Lambda1 { get; init; }

    /// <summary>λ2 used in this epoch (0 when no layer chooses among candidate block shapes).</summary>
    public double Lambda2 { get; init; }

    /// <summary>
    /// The block shapes still live in each layer at the end of the epoch (null entries: dense layers), when a
    /// layer chooses among candidates; null otherwise.
    /// </summary>
    public IReadOnlyList<string?>? BlockShapes { get; init; }

    /// <summary>Training FLOPs of this epoch over all rows (3 × forward; retired candidates no longer count).</summary>
    public long TrainingFlops { get; init; }

    /// <summary>Accuracy on the training batches as they were seen (before each step).</summary>
    public double TrainAccuracy { get; init; }

    /// <summary>
    /// Accuracy on the validation rows (<see cref="BlockSparseTrainer.Options.ValidationFraction"/> or
    /// <see cref="BlockSparseTrainer.Options.ValidationSet"/>) at the end of the epoch; null without validation.
    /// </summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Fraction of all blocks that are exactly zero at the end of the epoch.</summary>
    public double BlockSparsity { get; init; }

    /// <summary>Wall-clock seconds the epoch took.</summary>
    public double Seconds { get; init; }

    /// <summary>One line for a log.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"epoch {Epoch,3}/{Epochs}  loss {Loss:F4}  penalty {GatePenalty:F4}  λ1 {Lambda1:G3}  train acc {TrainAccuracy:P2}{(ValidationAccuracy is { } v ? "  val acc " + v.ToString("P2", CultureInfo.InvariantCulture) : "")}  zero blocks {BlockSparsity:P1}  {Seconds:F2}s")
        + (BlockShapes is null ? "" : string.Create(CultureInfo.InvariantCulture,
            $"  λ2 {Lambda2:G3}  shapes {string.Join(" | ", BlockShapes.Select(s => s ?? "dense"))}"));
}
