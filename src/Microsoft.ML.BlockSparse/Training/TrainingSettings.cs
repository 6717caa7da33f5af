using Microsoft.ML.BlockSparse.Regularization;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>The loop's settings, already validated by <see cref="BlockSparseTrainer.Options"/>.</summary>
internal sealed record TrainingSettings(
    int Epochs,
    int BatchSize,
    double LearningRate,
    LearningRateSchedule Schedule,
    L1Schedule Lambda1,
    int PruneEveryEpochs,
    double PruneThreshold,
    ulong Seed);
