using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.BlockSparse.Checkpoints;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Everything around <see cref="NetworkTrainer"/>'s epoch loop that makes a long run safe to start:
/// continuing from a checkpoint, cancellation before every batch, stopping at the first non-finite
/// loss, validation accuracy and early stopping after every epoch, and a checkpoint after every epoch.
/// </summary>
/// <remarks>
/// A checkpoint holds every piece of state the loop reads, so a resumed run repeats exactly the steps
/// an uninterrupted one would take: the network's parameters and buffers, Adam's moments and step
/// count, the shuffling generator (streamed rows derive their order from the seed and the epoch instead), the global step (learning-rate schedule; λ1 follows the epoch) and
/// the early-stopping state with its best weights.
/// </remarks>
internal sealed class TrainingRun : IDisposable
{
    private const string ShufflerName = "shuffler";
    private const long ValidationBatch = 4096;

    private readonly BlockSparseNetwork network;
    private readonly ProximalAdam optimizer;
    private readonly Generator shuffler;
    private readonly Device device;
    private readonly RunControl control;
    private readonly DivergenceGuard divergence;
    private readonly EarlyStopping earlyStopping;
    private readonly List<EpochSummary> history = [];
    private bool stoppedBeforeResume;

    public TrainingRun(BlockSparseNetwork network, ProximalAdam optimizer, Generator shuffler, Device device,
        TrainingSettings settings, long batchesPerEpoch, RunControl control)
    {
        this.network = network;
        this.optimizer = optimizer;
        this.shuffler = shuffler;
        this.device = device;
        this.control = control;
        divergence = new DivergenceGuard(device, settings.LearningRate, batchesPerEpoch, learningRateName: settings.LearningRateName);
        earlyStopping = new EarlyStopping(control.EarlyStoppingPatience);
        if (control.Resume is { } checkpoint)
            Continue(checkpoint);
    }

    /// <summary>The 0-based epoch to train first: 0, or the one after the checkpoint's.</summary>
    public int FirstEpoch { get; private set; }

    /// <summary>Mini-batch steps already taken before <see cref="FirstEpoch"/>.</summary>
    public long FirstStep { get; private set; }

    /// <summary>Early stopping has ended the run.</summary>
    public bool Stopped => stoppedBeforeResume || earlyStopping.ShouldStop;

    /// <summary>All epochs' summaries, those before a resume included.</summary>
    public IReadOnlyList<EpochSummary> History => history;

    public void BeforeBatch() => control.Cancellation.ThrowIfCancellationRequested();

    public void CheckLoss(Tensor loss, int epoch, long batch) => divergence.Observe(loss, epoch, batch);

    /// <summary>
    /// Completes <paramref name="epoch"/> (0-based), whose <paramref name="summary"/> the loop made:
    /// refuses non-finite weights, adds the validation accuracy, updates early stopping, writes the
    /// checkpoint. Returns the summary to report.
    /// </summary>
    public EpochSummary EndEpoch(EpochSummary summary, int epoch, long globalStep)
    {
        divergence.CheckEpoch(network, epoch);
        if (control.Validation is { } validation)
        {
            double accuracy = Accuracy(validation);
            summary = summary with { ValidationAccuracy = accuracy };
            earlyStopping.Observe(network, epoch + 1, accuracy);
        }
        history.Add(summary);
        if (control.Checkpoints is { } store)
            Save(store, epoch + 1, globalStep);
        return summary;
    }

    /// <summary>After the loop: with early stopping, the best epoch's weights are the ones kept.</summary>
    public void Finish() => earlyStopping.RestoreBest(network);

    private double Accuracy(IRowBatches rows)
    {
        network.eval();
        try
        {
            using var _ = no_grad();
            using var correct = zeros(1, dtype: ScalarType.Int64, device: device);
            using var batches = rows.InOrder(ValidationBatch);
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.TryNext(out var features, out var labels))
                    break;
                var predicted = network.call(features).argmax(1);
                correct.add_(predicted.eq(labels).sum(), Scalars.One);
            }
            return (double)correct.item<long>() / rows.Count;
        }
        finally
        {
            network.train();
        }
    }

    private void Save(CheckpointStore store, int completedEpochs, long globalStep)
    {
        var names = ParameterNames();
        // detach() gives new handles on the same storage: disposing them leaves the live tensors alone.
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in ModuleState.Entries(network))
            tensors.Add(Checkpoint.Key(Checkpoint.NetworkGroup, name), value.detach());
        foreach (var (parameter, mean, variance) in optimizer.Moments)
        {
            tensors.Add(Checkpoint.Key(Checkpoint.MeanGroup, names[parameter]), mean.detach());
            tensors.Add(Checkpoint.Key(Checkpoint.VarianceGroup, names[parameter]), variance.detach());
        }
        foreach (var (name, value) in earlyStopping.BestWeights ?? new Dictionary<string, Tensor>())
            tensors.Add(Checkpoint.Key(Checkpoint.BestGroup, name), value.detach());
        tensors.Add(Checkpoint.Key(Checkpoint.RandomGroup, ShufflerName), shuffler.get_state());

        var info = new CheckpointInfo
        {
            CompletedEpochs = completedEpochs,
            GlobalStep = globalStep,
            OptimizerSteps = optimizer.StepCount,
            Fingerprint = control.Fingerprint,
            History = [.. history],
            BestEpoch = earlyStopping.BestEpoch,
            BestAccuracy = earlyStopping.BestEpoch is null ? null : earlyStopping.BestAccuracy,
            EpochsWithoutImprovement = earlyStopping.EpochsWithoutImprovement,
            StoppedEarly = earlyStopping.ShouldStop,
        };
        using var checkpoint = new Checkpoint(info, tensors);
        store.Save(checkpoint);
    }

    private void Continue(Checkpoint checkpoint)
    {
        var source = $"Checkpoint '{checkpoint.Path}'";
        ModuleState.Restore(network, checkpoint.Group(Checkpoint.NetworkGroup), source);

        var means = checkpoint.Group(Checkpoint.MeanGroup);
        var variances = checkpoint.Group(Checkpoint.VarianceGroup);
        var names = ParameterNames();
        var moments = optimizer.Moments.ToList();
        var expected = moments.Select(m => names[m.Parameter]).ToHashSet(StringComparer.Ordinal);
        if (!expected.SetEquals(means.Keys) || !expected.SetEquals(variances.Keys))
        {
            throw new InvalidDataException($"{source} does not fit this run: it holds optimiser moments for "
                + $"{string.Join(", ", means.Keys.Order(StringComparer.Ordinal))}, this run optimises {string.Join(", ", expected.Order(StringComparer.Ordinal))}.");
        }
        using (no_grad())
        {
            foreach (var (parameter, mean, variance) in moments)
            {
                mean.copy_(means[names[parameter]]);
                variance.copy_(variances[names[parameter]]);
            }
        }
        optimizer.StepCount = checkpoint.Info.OptimizerSteps;

        if (!checkpoint.Tensors.TryGetValue(Checkpoint.Key(Checkpoint.RandomGroup, ShufflerName), out var state))
            throw new InvalidDataException($"{source} lacks the shuffling generator's state.");
        shuffler.set_state(state);

        var info = checkpoint.Info;
        FirstEpoch = info.CompletedEpochs;
        FirstStep = info.GlobalStep;
        history.AddRange(info.History);
        earlyStopping.Resume(info.BestEpoch, info.BestAccuracy ?? double.NegativeInfinity, info.EpochsWithoutImprovement,
            checkpoint.Group(Checkpoint.BestGroup), device);
        stoppedBeforeResume = info.StoppedEarly;
    }

    private Dictionary<Tensor, string> ParameterNames()
        => network.named_parameters().ToDictionary<(string name, Parameter parameter), Tensor, string>(
            p => p.parameter, p => p.name, ReferenceEqualityComparer.Instance);

    public void Dispose()
    {
        divergence.Dispose();
        earlyStopping.Dispose();
    }
}
