using System.Diagnostics;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Regularization;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Mini-batch training of a <see cref="BlockSparseNetwork"/>: shuffled batches, cross-entropy, Adam
/// followed by the proximal steps of λ1 (gates), λ2 (candidate block shapes) and, for the group-lasso
/// baseline, its block penalty; every <c>PruneEveryEpochs</c> epochs a hard prune that keeps small
/// gates zero for good, and after every epoch the retirement of candidates λ2 has collapsed.
/// </summary>
internal static class NetworkTrainer
{
    /// <summary>
    /// Trains in place. <paramref name="features"/> holds all rows <c>[N, in]</c> and
    /// <paramref name="labels"/> their class indices <c>[N]</c> (int64), both already on the training device.
    /// </summary>
    public static IReadOnlyList<EpochSummary> Train(BlockSparseNetwork network, Tensor features, Tensor labels,
        TrainingSettings settings, Action<EpochSummary> onEpoch, RunControl? control = null)
    {
        long rows = features.shape[0];
        var device = features.device;
        var factored = network.FactoredLayers.ToList();
        var groupLasso = network.GroupLassoLayers.ToList();
        bool choosing = factored.Any(l => l.Candidates.Count > 1);
        // Gates first, side by side, so λ1's step is one operation (ProximalAdam.TryContiguous).
        var gates = network.GatedBlocks.Select(g => g.Gate).ToList();
        var gateSet = new HashSet<TorchSharp.Modules.Parameter>(gates, ReferenceEqualityComparer.Instance);
        using var optimizer = new ProximalAdam(gates.Concat(network.parameters().Where(p => !gateSet.Contains(p))));
        var gated = network.GatedBlocks.ToList();
        using var masks = new FlatGateMasks(gated);
        bool gatesSideBySide = optimizer.TryContiguous(gates, out var allGates, out var gateMetric);
        using var allGatesView = allGates;
        using var gateMetricView = gateMetric;
        using var shuffler = new Generator(settings.Seed + 1);
        long stepsPerEpoch = (rows + settings.BatchSize - 1) / settings.BatchSize;
        // Resume, cancellation, divergence, validation, early stopping and checkpoints live there.
        using var run = new TrainingRun(network, optimizer, shuffler, device, settings, stepsPerEpoch, control ?? RunControl.None);
        long totalSteps = stepsPerEpoch * settings.Epochs, step = run.FirstStep;
        network.train();

        for (int epoch = run.FirstEpoch; epoch < settings.Epochs && !run.Stopped; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lambda1 = settings.Lambda1.At(epoch), lambda2 = settings.Lambda2.At(epoch);
            // What this epoch costs: the candidates live now (retirement happens at the epoch's end).
            long epochFlops = network.Report().TrainingFlopsPerExample * rows;
            var live = network.GatedBlocks.ToList();
            // Until λ2 retires a candidate, every gate is live and the masks apply in one operation.
            bool oneMaskOperation = gatesSideBySide && live.Count == gated.Count;
            // Running sums stay on the device: reading them per batch would synchronise a GPU every step.
            using var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
            using var correct = zeros(1, dtype: ScalarType.Int64, device: device);
            using (var hostOrder = randperm(rows, generator: shuffler))
            using (var order = hostOrder.to(device))
            {
                for (long start = 0; start < rows; start += settings.BatchSize)
                {
                    run.BeforeBatch();
                    using var scope = NewDisposeScope();
                    long size = Math.Min(settings.BatchSize, rows - start);
                    var index = order.narrow(0, start, size);
                    var x = features.index_select(0, index);
                    var y = labels.index_select(0, index);

                    var logits = network.call(x);
                    var loss = nn.functional.cross_entropy(logits, y);
                    run.CheckLoss(loss, epoch, start / settings.BatchSize);
                    optimizer.ZeroGrad();
                    loss.backward();
                    double learningRate = settings.Schedule.At(settings.LearningRate, step++, totalSteps);
                    optimizer.Step(learningRate);
                    ProximalPenalties.GateL1(live, optimizer, learningRate, lambda1);
                    if (choosing)
                        ProximalPenalties.CandidateGroups(factored, optimizer, learningRate, lambda2);
                    if (groupLasso.Count > 0)
                        ProximalPenalties.WeightBlocks(groupLasso, optimizer, learningRate, settings.GroupLassoLambda);
                    using (no_grad())
                    {
                        if (oneMaskOperation)
                            allGates.mul_(masks.Values);
                        else
                            live.ForEach(candidate => candidate.ApplyGateMask());
                        using var batchRows = Scalars.Of(size);
                        lossSum.add_(loss.detach(), alpha: batchRows);
                        correct.add_(logits.argmax(1).eq(y).sum(), Scalars.One);
                    }
                }
            }

            if (settings.PruneEveryEpochs > 0 && (epoch + 1) % settings.PruneEveryEpochs == 0)
            {
                foreach (var candidate in network.GatedBlocks)
                    candidate.PruneGatesBelow(settings.PruneThreshold);
            }
            if (choosing)
                CandidateRetirement.Apply(factored, settings.CandidateRetireFraction);

            var report = network.Report();
            var summary = new EpochSummary
            {
                Epoch = epoch + 1,
                Epochs = settings.Epochs,
                Loss = lossSum.item<double>() / rows,
                GatePenalty = lambda1 * GateL1(network),
                Lambda1 = factored.Count > 0 ? lambda1 : 0,   // the baselines have no gates
                Lambda2 = choosing ? lambda2 : 0,
                TrainAccuracy = (double)correct.item<long>() / rows,
                BlockSparsity = report.BlockSparsity,
                BlockShapes = choosing ? report.ChosenBlockShapes : null,
                TrainingFlops = epochFlops,
                Seconds = clock.Elapsed.TotalSeconds,
            };
            onEpoch(run.EndEpoch(summary, epoch, step));
        }
        run.Finish();
        // The group-lasso baseline prunes once, on the weights it keeps (the best epoch's, with early stopping).
        foreach (var layer in groupLasso)
            layer.PruneBlocks(settings.GroupLassoPruneThreshold, settings.TargetBlockSparsity);
        network.eval();
        return run.History;
    }

    private static double GateL1(BlockSparseNetwork network)
    {
        using var _ = no_grad();
        double total = 0;
        foreach (var candidate in network.GatedBlocks)
        {
            using var scope = NewDisposeScope();
            var norm = candidate.Gate.abs().sum();
            total += norm.to_type(ScalarType.Float64).item<double>();
        }
        return total;
    }
}
