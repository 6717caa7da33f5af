using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Checkpoints;

/// <summary>
/// Everything a run needs to continue exactly where it stopped: named tensors (the network's
/// parameters and buffers, the optimiser's moments, the shuffling generator's state, the early-stopping
/// snapshot) and the loop's counters in <see cref="CheckpointInfo"/>.
/// </summary>
/// <remarks>
/// The tensors are kept generic on purpose, by name and group (<see cref="NetworkGroup"/> etc.), so
/// that a new parameter or buffer of a layer is saved and restored without changes here.
/// </remarks>
internal sealed class Checkpoint : IDisposable
{
    /// <summary>Every named parameter and buffer of the network.</summary>
    public const string NetworkGroup = "network";

    /// <summary>Adam's first moment, keyed by parameter name.</summary>
    public const string MeanGroup = "adam.mean";

    /// <summary>Adam's second moment, keyed by parameter name.</summary>
    public const string VarianceGroup = "adam.variance";

    /// <summary>The early-stopping snapshot (parameters and buffers of the best epoch so far).</summary>
    public const string BestGroup = "best";

    /// <summary>Random generator states.</summary>
    public const string RandomGroup = "rng";

    public Checkpoint(CheckpointInfo info, IReadOnlyDictionary<string, Tensor> tensors, string? path = null)
    {
        Info = info;
        Tensors = tensors;
        Path = path;
    }

    public CheckpointInfo Info { get; }

    /// <summary>The file it was read from, for messages; null for one not read from a file.</summary>
    public string? Path { get; }

    /// <summary>CPU tensors keyed <c>group/name</c>.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    public static string Key(string group, string name) => group + "/" + name;

    /// <summary>The tensors of one group, keyed by name within the group.</summary>
    public Dictionary<string, Tensor> Group(string group)
    {
        var prefix = group + "/";
        return Tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal);
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors.Values)
            tensor.Dispose();
    }
}

/// <summary>The counters and settings a checkpoint carries besides its tensors (stored as JSON).</summary>
internal sealed record CheckpointInfo
{
    /// <summary>Epochs finished when the checkpoint was written; the resumed run starts with the next.</summary>
    public int CompletedEpochs { get; init; }

    /// <summary>Mini-batch steps taken so far (position in the learning-rate schedule).</summary>
    public long GlobalStep { get; init; }

    /// <summary>Steps the optimiser has taken (its bias correction depends on it).</summary>
    public long OptimizerSteps { get; init; }

    /// <summary>The settings and data the run was started with; a resume must match them.</summary>
    public SortedDictionary<string, string> Fingerprint { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Summaries of the finished epochs, so a resumed model's history is complete.</summary>
    public List<EpochSummary> History { get; init; } = [];

    /// <summary>Early stopping: the 1-based epoch with the best validation accuracy so far, if any.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>Early stopping: the validation accuracy of <see cref="BestEpoch"/>.</summary>
    public double? BestAccuracy { get; init; }

    /// <summary>Early stopping: epochs since the best one.</summary>
    public int EpochsWithoutImprovement { get; init; }

    /// <summary>Early stopping ended the run at this checkpoint; a resume trains no further.</summary>
    public bool StoppedEarly { get; init; }
}
