namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>The sparsity part of a run's settings: penalty schedules, hard pruning, candidate retirement, the group-lasso baseline.</summary>
internal sealed record SparsitySettings(
    PenaltySchedule Lambda1,
    PenaltySchedule Lambda2,
    int PruneEveryEpochs,
    double PruneThreshold,
    double CandidateRetireFraction,
    double GroupLassoLambda,
    double GroupLassoPruneThreshold,
    double? TargetBlockSparsity)
{
    /// <summary>After this many epochs each layer keeps only its strongest candidate block shape; 0 never forces it.</summary>
    public int DecisionEpochs { get; init; }
}
