using System.Globalization;
using Microsoft.ML.BlockSparse.Network;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// What decides a run's network shape and every training step: the options that matter and the
/// data. A checkpoint stores it; a resume must match it, or it would silently continue another run
/// (or fail deep in TorchSharp on a shape mismatch).
/// </summary>
internal static class RunFingerprint
{
    private const string DataKey = "training data (SHA-256)";

    public static SortedDictionary<string, string> Of(BlockSparseTrainer.Options options, NetworkPlan plan,
        TrainingData data, int featureLength, int classes)
    {
        static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);
        var layers = string.Join("; ", plan.Describe());
        var fingerprint = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [nameof(options.HiddenLayers)] = string.Join(",", options.HiddenLayers),
            ["layers (block shapes)"] = layers,
            [nameof(options.Rank)] = Integer(options.Rank),
            [nameof(options.Seed)] = Integer(options.Seed),
            [nameof(options.Epochs)] = Integer(options.Epochs),
            [nameof(options.BatchSize)] = Integer(options.BatchSize),
            [nameof(options.LearningRate)] = Number(options.LearningRate),
            [nameof(options.LearningRateSchedule)] = options.LearningRateSchedule.ToString(),
            [nameof(options.L1Start)] = Number(options.L1Start),
            [nameof(options.L1Increment)] = Number(options.L1Increment),
            [nameof(options.L1EveryEpochs)] = Integer(options.L1EveryEpochs),
            [nameof(options.Method)] = options.Method.ToString(),
            // λ2 keeps the key of its former option name (L2Start...): checkpoints already written store it.
            ["L2Start"] = Number(options.ShapeSearchLambdaStart),
            ["L2Increment"] = Number(options.ShapeSearchLambdaIncrement),
            ["L2EveryEpochs"] = Integer(options.ShapeSearchLambdaEveryEpochs),
            [nameof(options.CandidateRetireFraction)] = Number(options.CandidateRetireFraction),
            [nameof(options.GroupLassoLambda)] = Number(options.GroupLassoLambda),
            [nameof(options.GroupLassoPruneThreshold)] = Number(options.GroupLassoPruneThreshold),
            [nameof(options.TargetBlockSparsity)] = options.TargetBlockSparsity is { } target ? Number(target) : "none",
            [nameof(options.InitialWeights)] = options.InitialWeights is { } initial ? Digest(initial) : "none",
            [nameof(options.PruneEveryEpochs)] = Integer(options.PruneEveryEpochs),
            [nameof(options.PruneThreshold)] = Number(options.PruneThreshold),
            [nameof(options.ValidationFraction)] = Number(options.ValidationFraction),
            [nameof(options.EarlyStoppingPatience)] = Integer(options.EarlyStoppingPatience),
            ["training rows"] = Integer(data.Train.Count),
            ["validation rows"] = Integer(data.Validation?.Count ?? 0),
            ["features"] = Integer(featureLength),
            ["classes"] = Integer(classes),
            [DataKey] = data.Digest,
        };
        // Only recorded when not the MLP, so checkpoints written before architectures existed still match.
        if (options.Architecture != NetworkArchitecture.Mlp)
        {
            fingerprint[nameof(options.Architecture)] = options.Architecture.ToString();
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
