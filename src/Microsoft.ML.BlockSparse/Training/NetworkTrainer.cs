using System.Diagnostics;
using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Mini-batch training of a <see cref="BlockSparseNetwork"/>: shuffled batches, cross-entropy, Adam; what
/// makes the network sparse (proximal steps, masks, pruning, candidate retirement) happens in the hooks of
/// <see cref="SparsityHooks"/>, called after each step, after each epoch and after training.
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
        // The caller keeps its tensors: the wrapper's rows are new handles on the same storage.
        using var rows = new InMemoryBatches(new LabelledRows(features.alias(), labels.alias()));
        return Train(network, rows, features.device, settings, onEpoch, control);
    }

    /// <summary>Trains in place on <paramref name="data"/>, whose batches arrive on <paramref name="device"/>.</summary>
    public static IReadOnlyList<EpochSummary> Train(BlockSparseNetwork network, IRowBatches data, Device device,
        TrainingSettings settings, Action<EpochSummary> onEpoch, RunControl? control = null)
    {
        long rows = data.Count;
        using var optimizer = new ProximalAdam(SparsityHooks.ParameterOrder(network));
        using var sparsity = new SparsityHooks(network, optimizer, settings.Sparsity);
        using var shuffler = new Generator(settings.Seed + 1);
        long stepsPerEpoch = (rows + settings.BatchSize - 1) / settings.BatchSize;
        // Resume, cancellation, divergence, validation, early stopping and checkpoints live there.
        using var run = new TrainingRun(network, optimizer, shuffler, device, settings, stepsPerEpoch, control ?? RunControl.None);
        long totalSteps = stepsPerEpoch * settings.Epochs, step = run.FirstStep;
        network.train();

        for (int epoch = run.FirstEpoch; epoch < settings.Epochs && !run.Stopped; epoch++)
        {
            var clock = Stopwatch.StartNew();
            sparsity.BeginEpoch(epoch);
            // What this epoch costs: the candidates live now (retirement happens at the epoch's end).
            long epochFlops = network.Report().TrainingFlopsPerExample * rows;
            // Running sums stay on the device: reading them per batch would synchronise a GPU every step.
            using var lossSum = zeros(1, dtype: ScalarType.Float64, device: device);
            using var correct = zeros(1, dtype: ScalarType.Int64, device: device);
            using (var batches = data.Shuffled(epoch, shuffler, settings.BatchSize))
            {
                for (long batch = 0; ; batch++)
                {
                    using var scope = NewDisposeScope();
                    if (!batches.TryNext(out var x, out var y))
                        break;
                    // After the read, so an epoch whose last batch is done ends (and checkpoints) as before.
                    run.BeforeBatch();
                    long size = y.shape[0];

                    var logits = network.call(x);
                    var loss = nn.functional.cross_entropy(logits, y);
                    run.CheckLoss(loss, epoch, batch);
                    optimizer.ZeroGrad();
                    loss.backward();
                    double learningRate = settings.Schedule.At(settings.LearningRate, step++, totalSteps);
                    optimizer.Step(learningRate);
                    sparsity.AfterStep(learningRate);
                    using (no_grad())
                    {
                        using var batchRows = Scalars.Of(size);
                        lossSum.add_(loss.detach(), alpha: batchRows);
                        correct.add_(logits.argmax(1).eq(y).sum(), Scalars.One);
                    }
                }
            }

            sparsity.AfterEpoch(epoch);

            var report = network.Report();
            var summary = new EpochSummary
            {
                Epoch = epoch + 1,
                Epochs = settings.Epochs,
                Loss = lossSum.item<double>() / rows,
                GatePenalty = sparsity.GatePenalty(),
                Lambda1 = sparsity.HasGates ? sparsity.Lambda1 : 0,   // the baselines have no gates
                Lambda2 = sparsity.Choosing ? sparsity.Lambda2 : 0,
                TrainAccuracy = (double)correct.item<long>() / rows,
                BlockSparsity = report.BlockSparsity,
                BlockShapes = sparsity.Choosing ? report.ChosenBlockShapes : null,
                TrainingFlops = epochFlops,
                Seconds = clock.Elapsed.TotalSeconds,
            };
            onEpoch(run.EndEpoch(summary, epoch, step));
        }
        run.Finish();
        sparsity.AfterTraining();
        network.eval();
        return run.History;
    }
}
