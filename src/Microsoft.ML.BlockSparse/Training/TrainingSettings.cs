using Microsoft.ML.BlockSparse.Sparsity;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>The loop's settings: the training part of a <see cref="Run.RunDescription"/>, already validated there.</summary>
internal sealed record TrainingSettings(
    int Epochs,
    int BatchSize,
    double LearningRate,
    LearningRateSchedule Schedule,
    PenaltySchedule Lambda1,
    int PruneEveryEpochs,
    double PruneThreshold,
    ulong Seed)
{
    /// <summary>λ2, the group penalty over candidate block shapes.</summary>
    public PenaltySchedule Lambda2 { get; init; }

    /// <summary>A candidate whose group norm falls to this fraction of its layer's largest is retired.</summary>
    public double CandidateRetireFraction { get; init; }

    /// <summary>After this many epochs each layer keeps only its strongest candidate; 0 never forces it.</summary>
    public int ShapeDecisionEpochs { get; init; }

    /// <summary>λ of the group-lasso baseline's penalty over weight blocks.</summary>
    public double GroupLassoLambda { get; init; }

    /// <summary>After group-lasso training, blocks with a Frobenius norm at most this are pruned.</summary>
    public double GroupLassoPruneThreshold { get; init; }

    /// <summary>After group-lasso training, also prune the smallest blocks until this fraction of each layer is zero.</summary>
    public double? TargetBlockSparsity { get; init; }

    /// <summary>What a divergence message tells the user to lower; the run description names the option.</summary>
    public string LearningRateName { get; init; } = "the learning rate";

    /// <summary>The part the sparsity hooks read.</summary>
    public SparsitySettings Sparsity => new(Lambda1, Lambda2, PruneEveryEpochs, PruneThreshold, CandidateRetireFraction,
        GroupLassoLambda, GroupLassoPruneThreshold, TargetBlockSparsity)
    {
        DecisionEpochs = ShapeDecisionEpochs,
    };
}
