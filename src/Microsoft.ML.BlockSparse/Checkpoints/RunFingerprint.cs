using System.Globalization;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Network;

namespace Microsoft.ML.BlockSparse.Checkpoints;

/// <summary>
/// What decides a run's network shape and every training step, derived from the <see cref="RunDescription"/>,
/// its plan and the data; keyed by the options' names, so a mismatch names the option to change. A checkpoint stores it; a resume must match it, or it would silently continue another run
/// (or fail deep in TorchSharp on a shape mismatch).
/// </summary>
internal static class RunFingerprint
{
    private const string DataKey = "training data (SHA-256)";

    public static SortedDictionary<string, string> Of(RunDescription run, NetworkPlan plan,
        long trainingRows, long validationRows, string dataDigest, int featureLength, int classes, string? streaming = null)
    {
        static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);
        var layers = string.Join("; ", plan.Describe());
        var fingerprint = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [nameof(BlockSparseTrainer.Options.HiddenLayers)] = string.Join(",", run.HiddenLayers),
            ["layers (block shapes)"] = layers,
            [nameof(BlockSparseTrainer.Options.Rank)] = Integer(run.Rank),
            [nameof(BlockSparseTrainer.Options.Seed)] = Integer(run.Seed),
            [nameof(BlockSparseTrainer.Options.Epochs)] = Integer(run.Training.Epochs),
            [nameof(BlockSparseTrainer.Options.BatchSize)] = Integer(run.Training.BatchSize),
            [nameof(BlockSparseTrainer.Options.LearningRate)] = Number(run.Training.LearningRate),
            [nameof(BlockSparseTrainer.Options.LearningRateSchedule)] = run.Training.Schedule.ToString(),
            [nameof(BlockSparseTrainer.Options.L1Start)] = Number(run.Training.Lambda1.Start),
            [nameof(BlockSparseTrainer.Options.L1Increment)] = Number(run.Training.Lambda1.Increment),
            [nameof(BlockSparseTrainer.Options.L1EveryEpochs)] = Integer(run.Training.Lambda1.EveryEpochs),
            [nameof(BlockSparseTrainer.Options.Method)] = run.Method.ToString(),
            // λ2 keeps the key of its former option name (L2Start...): checkpoints already written store it.
            ["L2Start"] = Number(run.Training.Lambda2.Start),
            ["L2Increment"] = Number(run.Training.Lambda2.Increment),
            ["L2EveryEpochs"] = Integer(run.Training.Lambda2.EveryEpochs),
            [nameof(BlockSparseTrainer.Options.CandidateRetireFraction)] = Number(run.Training.CandidateRetireFraction),
            [nameof(BlockSparseTrainer.Options.GroupLassoLambda)] = Number(run.Training.GroupLassoLambda),
            [nameof(BlockSparseTrainer.Options.GroupLassoPruneThreshold)] = Number(run.Training.GroupLassoPruneThreshold),
            [nameof(BlockSparseTrainer.Options.TargetBlockSparsity)] = run.Training.TargetBlockSparsity is { } target ? Number(target) : "none",
            [nameof(BlockSparseTrainer.Options.InitialWeights)] = run.InitialWeights is { } initial ? Digest(initial) : "none",
            [nameof(BlockSparseTrainer.Options.PruneEveryEpochs)] = Integer(run.Training.PruneEveryEpochs),
            [nameof(BlockSparseTrainer.Options.PruneThreshold)] = Number(run.Training.PruneThreshold),
            [nameof(BlockSparseTrainer.Options.ValidationFraction)] = Number(run.ValidationFraction),
            [nameof(BlockSparseTrainer.Options.EarlyStoppingPatience)] = Integer(run.EarlyStoppingPatience),
            ["training rows"] = Integer(trainingRows),
            ["validation rows"] = Integer(validationRows),
            ["features"] = Integer(featureLength),
            ["classes"] = Integer(classes),
            [DataKey] = dataDigest,
        };
        // Streaming visits the rows in another order than memory: recorded only then, so in-memory checkpoints written before streaming still match.
        if (streaming is not null)
            fingerprint[nameof(BlockSparseTrainer.Options.DataCaching)] = streaming;
        // Only recorded for a block-shape search, so checkpoints of other runs written before the option existed still match.
        if (plan.Linear.Any(l => l.Candidates.Count > 1))
            fingerprint[nameof(BlockSparseTrainer.Options.ShapeSearchDecisionEpochs)] = Integer(run.Training.ShapeDecisionEpochs);
        // Only recorded when not the MLP, so checkpoints written before architectures existed still match.
        if (run.Architecture != NetworkArchitecture.Mlp)
        {
            fingerprint[nameof(BlockSparseTrainer.Options.Architecture)] = run.Architecture.ToString();
            fingerprint["image shape"] = plan.Image?.ToString() ?? "none";
        }
        return fingerprint;
    }

    private static string Digest(IReadOnlyList<DenseLayerWeights> weights)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var layer in weights)
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(layer.Weights.AsSpan()));
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(layer.Bias.AsSpan()));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>Fingerprint keys kept from options since renamed, and the name a user sets today.</summary>
    private static readonly Dictionary<string, string> RenamedOptions = new(StringComparer.Ordinal)
    {
        ["L2Start"] = nameof(BlockSparseTrainer.Options.ShapeSearchLambdaStart),
        ["L2Increment"] = nameof(BlockSparseTrainer.Options.ShapeSearchLambdaIncrement),
        ["L2EveryEpochs"] = nameof(BlockSparseTrainer.Options.ShapeSearchLambdaEveryEpochs),
    };

    /// <summary>Throws, naming every difference, unless the checkpoint's fingerprint is this run's.</summary>
    public static void RequireMatch(IReadOnlyDictionary<string, string> saved, IReadOnlyDictionary<string, string> current, string path)
    {
        var differences = new List<string>();
        foreach (var key in saved.Keys.Union(current.Keys).Order(StringComparer.Ordinal))
        {
            var then = saved.GetValueOrDefault(key, "(not recorded)");
            var now = current.GetValueOrDefault(key, "(not recorded)");
            if (then == now)
                continue;
            differences.Add(key == DataKey
                ? "the training data differs (same size or not, its rows are not the same)"
                : $"{(char.IsUpper(key[0]) ? "Options." + RenamedOptions.GetValueOrDefault(key, key) : key)} is {then} in the checkpoint and {now} now");
        }
        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                $"Checkpoint '{path}' was written by a different run, so this one cannot continue it: {string.Join("; ", differences)}. "
                + "Resume with the options and data of that run, or start a new run without ResumeFrom (and with an empty CheckpointDirectory).");
        }
    }
}
