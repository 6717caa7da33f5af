using Microsoft.ML.BlockSparse.Network;

namespace Microsoft.ML.BlockSparse.Run;

internal sealed partial record RunDescription
{
    // Checks every option on its own, before any data is read; the message names the option and says what is wrong.
    private static void Validate(BlockSparseTrainer.Options options)
    {
        Require(!string.IsNullOrWhiteSpace(options.LabelColumnName), nameof(BlockSparseTrainer.Options.LabelColumnName), "must name a column");
        Require(!string.IsNullOrWhiteSpace(options.FeatureColumnName), nameof(BlockSparseTrainer.Options.FeatureColumnName), "must name a column");
        ArgumentNullException.ThrowIfNull(options.HiddenLayers, nameof(BlockSparseTrainer.Options.HiddenLayers));
        for (int i = 0; i < options.HiddenLayers.Length; i++)
            Require(options.HiddenLayers[i] >= 1, nameof(BlockSparseTrainer.Options.HiddenLayers), $"holds {options.HiddenLayers[i]} at position {i}; every hidden layer needs at least 1 unit");
        Require(options.Rank >= 1, nameof(BlockSparseTrainer.Options.Rank), $"is {options.Rank}; the Kronecker rank must be at least 1");
        if (options.BlockShape is { } shared)
            Require(shared.Rows >= 1 && shared.Columns >= 1, nameof(BlockSparseTrainer.Options.BlockShape), $"is {shared}; both sides must be at least 1");
        Require(Enum.IsDefined(options.Architecture), nameof(BlockSparseTrainer.Options.Architecture), $"is {(int)options.Architecture}; expected Mlp, LeNet5 or VisionTransformer");
        ValidateVit(options);
        int mlpLayers = options.Architecture == NetworkArchitecture.VisionTransformer ? VitShape.FactorableLayers(options.VitDepth) : options.HiddenLayers.Length + 1;
        string mlpLayersMeaning = options.Architecture == NetworkArchitecture.VisionTransformer
            ? "the patch embedding, then each encoder block's qkv, proj, fc1 and fc2, then the classifier"
            : "hidden layers, then the output layer";
        if (options.LayerBlockShapes is not null && options.Architecture == NetworkArchitecture.LeNet5)
        {
            Require(options.LayerBlockShapes.Length == Network.LeNet5Plan.LayerCount, nameof(BlockSparseTrainer.Options.LayerBlockShapes),
                $"has {options.LayerBlockShapes.Length} shapes; LeNet5 needs {Network.LeNet5Plan.LayerCount} (the two convolutions' channel blocks, then the three linear layers)");
        }
        else if (options.LayerBlockShapes is not null)
        {
            Require(options.LayerBlockShapes.Length == mlpLayers, nameof(BlockSparseTrainer.Options.LayerBlockShapes),
                $"has {options.LayerBlockShapes.Length} shapes; it needs one per layer, {mlpLayers} ({mlpLayersMeaning})");
        }
        Require(options.CandidateBlockShapes is null || options.Architecture != NetworkArchitecture.LeNet5, nameof(BlockSparseTrainer.Options.CandidateBlockShapes),
            "is set, but LeNet5 does not take candidate lists; give its block shapes with LayerBlockShapes, or use SearchBlockShapes for its linear layers");
        Require(Enum.IsDefined(options.Method), nameof(BlockSparseTrainer.Options.Method), $"is {(int)options.Method}; expected Kronecker, Dense or GroupLasso");
        if (options.CandidateBlockShapes is not null)
        {
            Require(options.CandidateBlockShapes.Length == mlpLayers, nameof(BlockSparseTrainer.Options.CandidateBlockShapes),
                $"has {options.CandidateBlockShapes.Length} lists; it needs one per layer, {mlpLayers} ({mlpLayersMeaning})");
            for (int i = 0; i < options.CandidateBlockShapes.Length; i++)
            {
                var list = options.CandidateBlockShapes[i];
                Require(list is { Length: > 0 }, nameof(BlockSparseTrainer.Options.CandidateBlockShapes), $"[{i}] is empty; give at least one block shape per layer");
                Require(list!.All(b => b.Rows >= 1 && b.Columns >= 1), nameof(BlockSparseTrainer.Options.CandidateBlockShapes), $"[{i}] holds a shape with a side below 1");
                Require(list!.Distinct().Count() == list!.Length, nameof(BlockSparseTrainer.Options.CandidateBlockShapes), $"[{i}] repeats a shape ({string.Join(", ", list!)})");
            }
        }
        Require(options.ShapeSearchLambdaStart >= 0 && double.IsFinite(options.ShapeSearchLambdaStart), nameof(BlockSparseTrainer.Options.ShapeSearchLambdaStart), $"is {options.ShapeSearchLambdaStart}; λ2 must be 0 or more");
        Require(options.ShapeSearchLambdaIncrement >= 0 && double.IsFinite(options.ShapeSearchLambdaIncrement), nameof(BlockSparseTrainer.Options.ShapeSearchLambdaIncrement), $"is {options.ShapeSearchLambdaIncrement}; it must be 0 or more");
        Require(options.ShapeSearchLambdaEveryEpochs >= 1, nameof(BlockSparseTrainer.Options.ShapeSearchLambdaEveryEpochs), $"is {options.ShapeSearchLambdaEveryEpochs}; it must be at least 1");
        Require(options.ShapeSearchDecisionEpochs >= 0, nameof(BlockSparseTrainer.Options.ShapeSearchDecisionEpochs), $"is {options.ShapeSearchDecisionEpochs}; it must be 0 (λ2 decides alone) or a number of epochs");
        Require(options.ShapeSearchFlopFraction is >= 0 and < 1, nameof(BlockSparseTrainer.Options.ShapeSearchFlopFraction), $"is {options.ShapeSearchFlopFraction}; expected a fraction of the dense layer's FLOPs in [0, 1) (0: no budget)");
        Require(options.ShapeSearchFlopFraction == 0 || options.SearchBlockShapes, nameof(BlockSparseTrainer.Options.ShapeSearchFlopFraction),
            $"is {options.ShapeSearchFlopFraction}, but SearchBlockShapes is false; the budget applies to the automatic search's candidates, so set SearchBlockShapes = true (or leave the budget at 0)");
        Require(options.CandidateRetireFraction is >= 0 and < 1, nameof(BlockSparseTrainer.Options.CandidateRetireFraction), $"is {options.CandidateRetireFraction}; expected a fraction in [0, 1)");
        Require(options.GroupLassoLambda >= 0 && double.IsFinite(options.GroupLassoLambda), nameof(BlockSparseTrainer.Options.GroupLassoLambda), $"is {options.GroupLassoLambda}; it must be 0 or more");
        Require(options.GroupLassoPruneThreshold >= 0 && double.IsFinite(options.GroupLassoPruneThreshold), nameof(BlockSparseTrainer.Options.GroupLassoPruneThreshold), $"is {options.GroupLassoPruneThreshold}; it must be 0 or more");
        if (options.TargetBlockSparsity is { } target)
            Require(target is >= 0 and < 1, nameof(BlockSparseTrainer.Options.TargetBlockSparsity), $"is {target}; expected a fraction in [0, 1)");
        Require(options.Epochs >= 1, nameof(BlockSparseTrainer.Options.Epochs), $"is {options.Epochs}; train for at least 1 epoch");
        Require(options.BatchSize >= 1, nameof(BlockSparseTrainer.Options.BatchSize), $"is {options.BatchSize}; a batch needs at least 1 row");
        Require(options.LearningRate > 0 && double.IsFinite(options.LearningRate), nameof(BlockSparseTrainer.Options.LearningRate), $"is {options.LearningRate}; it must be a positive number");
        Require(Enum.IsDefined(options.LearningRateSchedule), nameof(BlockSparseTrainer.Options.LearningRateSchedule), $"is {(int)options.LearningRateSchedule}; expected Constant or Cosine");
        Require(options.L1Start >= 0 && double.IsFinite(options.L1Start), nameof(BlockSparseTrainer.Options.L1Start), $"is {options.L1Start}; λ1 must be 0 or more");
        Require(options.L1Increment >= 0 && double.IsFinite(options.L1Increment), nameof(BlockSparseTrainer.Options.L1Increment), $"is {options.L1Increment}; it must be 0 or more");
        Require(options.L1EveryEpochs >= 1, nameof(BlockSparseTrainer.Options.L1EveryEpochs), $"is {options.L1EveryEpochs}; it must be at least 1");
        Require(options.PruneEveryEpochs >= 0, nameof(BlockSparseTrainer.Options.PruneEveryEpochs), $"is {options.PruneEveryEpochs}; use 0 to turn hard pruning off");
        Require(options.PruneThreshold >= 0 && double.IsFinite(options.PruneThreshold), nameof(BlockSparseTrainer.Options.PruneThreshold), $"is {options.PruneThreshold}; it must be 0 or more");
        Require(Enum.IsDefined(options.Device), nameof(BlockSparseTrainer.Options.Device), $"is {(int)options.Device}; expected Auto, Cpu or Cuda");
        ValidateRunControl(options);
    }

    private static void ValidateRunControl(BlockSparseTrainer.Options options)
    {
        if (options.CheckpointDirectory is not null)
        {
            Require(!string.IsNullOrWhiteSpace(options.CheckpointDirectory), nameof(BlockSparseTrainer.Options.CheckpointDirectory), "is empty; give a directory, or null for no checkpoints");
            Require(!File.Exists(options.CheckpointDirectory), nameof(BlockSparseTrainer.Options.CheckpointDirectory), $"is '{options.CheckpointDirectory}', which is a file; it must be a directory (created if missing)");
        }
        if (options.ResumeFrom is not null)
            Require(!string.IsNullOrWhiteSpace(options.ResumeFrom), nameof(BlockSparseTrainer.Options.ResumeFrom), "is empty; give a checkpoint file or directory, or null to start a new run");
        Require(options.ValidationFraction >= 0 && options.ValidationFraction < 1, nameof(BlockSparseTrainer.Options.ValidationFraction), $"is {options.ValidationFraction}; it must be at least 0 and below 1");
        Require(options.ValidationFraction == 0 || options.ValidationSet is null, nameof(BlockSparseTrainer.Options.ValidationFraction),
            $"is {options.ValidationFraction} and ValidationSet is set too; use one of them");
        Require(options.EarlyStoppingPatience >= 0, nameof(BlockSparseTrainer.Options.EarlyStoppingPatience), $"is {options.EarlyStoppingPatience}; use 0 to turn early stopping off");
        Require(options.EarlyStoppingPatience == 0 || options.ValidationFraction > 0 || options.ValidationSet is not null, nameof(BlockSparseTrainer.Options.EarlyStoppingPatience),
            $"is {options.EarlyStoppingPatience}, but there is nothing to validate on; set ValidationFraction or ValidationSet too");
        Require(Enum.IsDefined(options.DataCaching), nameof(BlockSparseTrainer.Options.DataCaching), $"is {(int)options.DataCaching}; expected Auto, Memory or Stream");
        Require(options.MemoryCacheBudgetBytes >= 0, nameof(BlockSparseTrainer.Options.MemoryCacheBudgetBytes), $"is {options.MemoryCacheBudgetBytes}; it must be 0 or more (0 streams whenever DataCaching is Auto)");
        Require(options.ShuffleBufferRows >= 1, nameof(BlockSparseTrainer.Options.ShuffleBufferRows), $"is {options.ShuffleBufferRows}; the shuffle buffer needs at least 1 row (1 reads the rows in order)");
    }

    private static void Require(bool condition, string option, string problem)
    {
        if (!condition)
            throw new ArgumentOutOfRangeException(option, $"BlockSparseTrainer.Options.{option} {problem}.");
    }
}
