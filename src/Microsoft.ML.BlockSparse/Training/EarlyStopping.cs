using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Tracks the epoch with the best validation accuracy and a copy of its weights, and says when
/// <c>patience</c> epochs have passed without a better one. Ties keep the earlier epoch.
/// </summary>
internal sealed class EarlyStopping : IDisposable
{
    private readonly int patience;
    private Dictionary<string, Tensor>? bestWeights;

    public EarlyStopping(int patience)
    {
        this.patience = patience;
    }

    public bool Enabled => patience > 0;

    /// <summary>
    /// The 1-based epoch whose weights a finished run holds: with early stopping the first one with the best
    /// validation accuracy (the rule <see cref="Observe"/> follows), otherwise the last.
    /// </summary>
    public static int KeptEpoch(IReadOnlyList<EpochSummary> history, bool earlyStopping)
    {
        if (!earlyStopping)
            return history[^1].Epoch;
        var best = history[0];
        foreach (var epoch in history)
        {
            if (epoch.ValidationAccuracy > best.ValidationAccuracy)
                best = epoch;
        }
        return best.Epoch;
    }

    /// <summary>1-based epoch whose weights <see cref="RestoreBest"/> puts back; null before the first epoch.</summary>
    public int? BestEpoch { get; private set; }

    public double BestAccuracy { get; private set; } = double.NegativeInfinity;

    public int EpochsWithoutImprovement { get; private set; }

    public bool ShouldStop => Enabled && EpochsWithoutImprovement >= patience;

    /// <summary>The best weights so far, keyed by parameter/buffer name (for checkpoints).</summary>
    public IReadOnlyDictionary<string, Tensor>? BestWeights => bestWeights;

    /// <summary>Records one finished epoch (1-based) and its validation accuracy.</summary>
    public void Observe(nn.Module network, int epoch, double accuracy)
    {
        if (!Enabled)
            return;
        if (accuracy > BestAccuracy)
        {
            Replace(ModuleState.Copy(network));
            BestEpoch = epoch;
            BestAccuracy = accuracy;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
        }
    }

    /// <summary>Continues from a checkpoint's state; <paramref name="weights"/> are copied to <paramref name="device"/>.</summary>
    public void Resume(int? bestEpoch, double bestAccuracy, int epochsWithoutImprovement, IReadOnlyDictionary<string, Tensor> weights, Device device)
    {
        if (!Enabled || bestEpoch is null)
            return;
        Replace(weights.ToDictionary(w => w.Key, w => w.Value.to(device, copy: true), StringComparer.Ordinal));
        BestEpoch = bestEpoch;
        BestAccuracy = bestAccuracy;
        EpochsWithoutImprovement = epochsWithoutImprovement;
    }

    /// <summary>Puts the best epoch's weights back into the network.</summary>
    public void RestoreBest(nn.Module network)
    {
        if (bestWeights is not null)
            ModuleState.Restore(network, bestWeights, $"The weights of epoch {BestEpoch}");
    }

    private void Replace(Dictionary<string, Tensor> weights)
    {
        DisposeWeights();
        bestWeights = weights;
    }

    private void DisposeWeights()
    {
        if (bestWeights is null)
            return;
        foreach (var tensor in bestWeights.Values)
            tensor.Dispose();
        bestWeights = null;
    }

    public void Dispose() => DisposeWeights();
}
