using System.Diagnostics;
using Microsoft.ML.BlockSparse.Network;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Mini-batch training of a <see cref="BlockSparseNetwork"/>: shuffled batches, cross-entropy,
/// proximal Adam, and every <c>PruneEveryEpochs</c> epochs a hard prune that keeps small gates zero for good.
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
        using var optimizer = new ProximalAdam(network.parameters(), factored.Select(l => l.Gate));
        using var shuffler = new Generator(settings.Seed + 1);
        long stepsPerEpoch = (rows + settings.BatchSize - 1) / settings.BatchSize;
        // Resume, cancellation, divergence, validation, early stopping and checkpoints live there.
        using var run = new TrainingRun(network, optimizer, shuffler, device, settings, stepsPerEpoch, control ?? RunControl.None);
        long totalSteps = stepsPerEpoch * settings.Epochs, step = run.FirstStep;
        network.train();

        for (int epoch = run.FirstEpoch; epoch < settings.Epochs && !run.Stopped; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lambda1 = settings.Lambda1.At(epoch);
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
                    optimizer.Step(settings.Schedule.At(settings.LearningRate, step++, totalSteps), lambda1);
                    foreach (var layer in factored)
                        layer.ApplyGateMask();

                    using (no_grad())
                    {
                        lossSum.add_(loss.detach().to_type(ScalarType.Float64).mul(size));
                        correct.add_(logits.argmax(1).eq(y).sum());
                    }
                }
            }

            if (settings.PruneEveryEpochs > 0 && (epoch + 1) % settings.PruneEveryEpochs == 0)
            {
                foreach (var layer in factored)
                    layer.PruneGatesBelow(settings.PruneThreshold);
            }

            var summary = new EpochSummary
            {
                Epoch = epoch + 1,
                Epochs = settings.Epochs,
                Loss = lossSum.item<double>() / rows,
                Penalty = lambda1 * GateL1(network),
                Lambda1 = lambda1,
                TrainAccuracy = (double)correct.item<long>() / rows,
                BlockSparsity = network.Report().BlockSparsity,
                Seconds = clock.Elapsed.TotalSeconds,
            };
            onEpoch(run.EndEpoch(summary, epoch, step));
        }
        run.Finish();
        network.eval();
        return run.History;
    }

    private static double GateL1(BlockSparseNetwork network)
    {
        using var _ = no_grad();
        double total = 0;
        foreach (var layer in network.FactoredLayers)
        {
            using var norm = layer.Gate.abs().sum();
            total += norm.to_type(ScalarType.Float64).item<double>();
        }
        return total;
    }
}
