using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Training;

namespace Microsoft.ML.BlockSparse.Run;

/// <summary>
/// One training run, described once from <see cref="BlockSparseTrainer.Options"/>: validated (the only
/// place that names the options), copied so a later change to the options cannot reach a run, and
/// grouped by who reads it: the planner (<see cref="Request"/>), the training loop (<see cref="Training"/>),
/// the data reader and the run's control (checkpoints, validation, early stopping). The checkpoint
/// fingerprint is derived from it (<see cref="Checkpoints.RunFingerprint"/>), and the network plan too
/// (<see cref="Plan"/>), with each layer's rank and shapes in its own layer plan.
/// </summary>
internal sealed partial record RunDescription
{
    public required string LabelColumn { get; init; }
    public required string FeatureColumn { get; init; }
    public required NetworkArchitecture Architecture { get; init; }
    public required IReadOnlyList<int> HiddenLayers { get; init; }

    /// <summary>The Vision Transformer's sizes (read only when <see cref="Architecture"/> is VisionTransformer).</summary>
    public required VitShape Vit { get; init; }

    /// <summary>What the planner chooses block shapes from: method, rank, given shapes, candidates, search.</summary>
    public required PlanRequest Request { get; init; }

    /// <summary>The image shape the options give (null: taken from the feature column, or flat features).</summary>
    public required ImageShape? ImageShape { get; init; }
    public required IReadOnlyList<DenseLayerWeights>? InitialWeights { get; init; }

    /// <summary>Everything the epoch loop needs: batches, learning rate, penalties, pruning, seed.</summary>
    public required TrainingSettings Training { get; init; }

    public required ComputeDevice Device { get; init; }

    /// <summary>The seed as given; <see cref="TrainingSettings.Seed"/> holds its unsigned form for the generators.</summary>
    public required int Seed { get; init; }

    public required string? CheckpointDirectory { get; init; }
    public required string? ResumeFrom { get; init; }
    public required double ValidationFraction { get; init; }
    public required IDataView? ValidationSet { get; init; }
    public required int EarlyStoppingPatience { get; init; }

    /// <summary>How the rows are read: in memory, streamed, or chosen by size.</summary>
    public required DataCaching DataCaching { get; init; }
    public required long MemoryCacheBudgetBytes { get; init; }
    public required int ShuffleBufferRows { get; init; }
    public required CancellationToken Cancellation { get; init; }
    public required IProgress<EpochSummary>? Progress { get; init; }
    public required MLContext? LogContext { get; init; }

    /// <summary>Whether training first applies the process-wide malloc setting of <see cref="Torch.NativeAllocator"/>.</summary>
    public bool TuneNativeAllocator { get; init; } = true;

    /// <summary>Validates <paramref name="options"/> and describes the run they ask for.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static RunDescription From(BlockSparseTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        return new RunDescription
        {
            LabelColumn = options.LabelColumnName,
            FeatureColumn = options.FeatureColumnName,
            Architecture = options.Architecture,
            HiddenLayers = [.. options.HiddenLayers],
            Vit = VitShapeOf(options),
            Request = new PlanRequest(options.Method, options.Rank, options.BlockShape, options.LayerBlockShapes?.ToArray(),
                options.CandidateBlockShapes?.Select(list => (IReadOnlyList<BlockShape>)[.. list]).ToArray(), options.SearchBlockShapes,
                options.ShapeSearchFlopFraction),
            ImageShape = options.ImageShape,
            InitialWeights = options.InitialWeights?.ToArray(),
            Training = new TrainingSettings(options.Epochs, options.BatchSize, options.LearningRate, options.LearningRateSchedule,
                new PenaltySchedule(options.L1Start, options.L1Increment, options.L1EveryEpochs),
                options.PruneEveryEpochs, options.PruneThreshold, (ulong)(uint)options.Seed)
            {
                Lambda2 = new PenaltySchedule(options.ShapeSearchLambdaStart, options.ShapeSearchLambdaIncrement, options.ShapeSearchLambdaEveryEpochs),
                CandidateRetireFraction = options.CandidateRetireFraction,
                ShapeDecisionEpochs = options.ShapeSearchDecisionEpochs,
                GroupLassoLambda = options.GroupLassoLambda,
                GroupLassoPruneThreshold = options.GroupLassoPruneThreshold,
                TargetBlockSparsity = options.TargetBlockSparsity,
                LearningRateName = "BlockSparseTrainer.Options.LearningRate",
            },
            Device = options.Device,
            Seed = options.Seed,
            CheckpointDirectory = options.CheckpointDirectory,
            ResumeFrom = options.ResumeFrom,
            ValidationFraction = options.ValidationFraction,
            ValidationSet = options.ValidationSet,
            EarlyStoppingPatience = options.EarlyStoppingPatience,
            DataCaching = options.DataCaching,
            MemoryCacheBudgetBytes = options.MemoryCacheBudgetBytes,
            ShuffleBufferRows = options.ShuffleBufferRows,
            Cancellation = options.CancellationToken,
            Progress = options.Progress,
            LogContext = options.LogContext,
            TuneNativeAllocator = options.TuneNativeAllocator,
        };
    }

    /// <summary>What to change when the planned network does not fit in memory, in the options' names.</summary>
    public string MemoryRemedy
        => $"Lower BlockSparseTrainer.Options.Rank (it is {Rank}), choose larger block shapes, fewer or smaller HiddenLayers, or a smaller BatchSize.";

    public BlockSparseMethod Method => Request.Method;
    public int Rank => Request.Rank;
}
