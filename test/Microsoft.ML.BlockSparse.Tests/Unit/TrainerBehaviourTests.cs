using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Training;
using Microsoft.ML.Data;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// What the training loop promises, observed from outside the piece that does it: pruned blocks stay
/// zero, λ1 follows its schedule, the seed sets the initial weights. Each was once changed in the
/// library without any test noticing.
/// </summary>
public class TrainerBehaviourTests
{
    private sealed class Row
    {
        public uint Label { get; set; }
        [VectorType(24)] public float[] Features { get; set; } = new float[24];
    }

    private static IDataView Data(MLContext ml, int rows = 256)
    {
        var random = new Random(7);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i =>
        {
            uint label = (uint)(i % 3);
            var features = Enumerable.Range(0, 24).Select(j => (float)random.NextDouble() + (j / 8 == label ? 1f : 0f)).ToArray();
            return new Row { Label = label, Features = features };
        }).ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    [Fact]
    public void PrunedGatesStayExactlyZeroInEveryLaterEpoch()
    {
        // A threshold above the starting gates (1) prunes, after epoch 2, every gate that moved down. Without
        // λ1, nothing but the mask keeps them at zero in epoch 3 (which ends without a prune that would hide
        // them): Adam's momentum and the gradient move them within a step unless the trainer re-applies the
        // mask after every step.
        var plan = NetworkPlan.Mlp(LayerPlan.ForMlp(24, [12], 3, 2, new BlockShape(2, 2), null));
        using var network = new BlockSparseNetwork(plan, seed: 1);
        using var features = randn(256, 24, generator: new Generator(3));
        using var labels = randint(0, 3, [256], generator: new Generator(4)).to_type(ScalarType.Int64);
        var settings = new TrainingSettings(4, 32, 0.05, LearningRateSchedule.Constant, new PenaltySchedule(0, 0, 5),
            PruneEveryEpochs: 2, PruneThreshold: 1.0, Seed: 1);

        var zeroAfterEpoch = new List<bool[]>();
        NetworkTrainer.Train(network, features, labels, settings, _ =>
        {
            using var scope = NewDisposeScope();
            zeroAfterEpoch.Add(network.GatedBlocks.SelectMany(g => g.Gate.detach().eq(Torch.Scalars.Zero).flatten().data<bool>().ToArray()).ToArray());
        });

        Assert.Equal(4, zeroAfterEpoch.Count);
        Assert.True(zeroAfterEpoch[1].Count(z => z) >= 10, $"only {zeroAfterEpoch[1].Count(z => z)} gates were pruned after epoch 2: the test would prove little");
        for (int epoch = 1; epoch < zeroAfterEpoch.Count; epoch++)
        {
            var came_back = Enumerable.Range(0, zeroAfterEpoch[epoch].Length).Count(i => zeroAfterEpoch[epoch - 1][i] && !zeroAfterEpoch[epoch][i]);
            Assert.True(came_back == 0, $"{came_back} pruned gates were non-zero again after epoch {epoch + 1}");
        }
    }

    [Fact]
    public void Lambda1RisesByItsIncrementEveryL1EveryEpochs()
    {
        var ml = new MLContext(1);
        var options = new BlockSparseTrainer.Options
        {
            HiddenLayers = [12], BlockShape = new BlockShape(2, 4), Epochs = 5, Device = ComputeDevice.Cpu,
            L1Start = 0.001, L1Increment = 0.0005, L1EveryEpochs = 2,
        };
        using var model = ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(Data(ml));
        Assert.Equal([0.001, 0.001, 0.0015, 0.0015, 0.002], model.History.Select(e => Math.Round(e.Lambda1, 10)));
    }

    [Fact]
    public void TheSeedSetsTheInitialWeights()
    {
        // One batch of all rows per epoch makes the shuffle nearly irrelevant (it only reorders a sum),
        // so what differs between two seeds after one small step is the initialisation.
        var ml = new MLContext(1);
        var data = Data(ml);
        float[] Scores(int seed)
        {
            var options = new BlockSparseTrainer.Options
            {
                HiddenLayers = [12], BlockShape = new BlockShape(2, 4), Epochs = 1, BatchSize = 256, LearningRate = 1e-4,
                Device = ComputeDevice.Cpu, Seed = seed,
            };
            using var model = ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(data);
            return model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        }
        var first = Scores(1);
        Assert.Equal(first, Scores(1));
        double largest = first.Zip(Scores(2), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(largest > 0.05, $"seeds 1 and 2 give scores at most {largest} apart: the seed does not reach the initial weights");
    }
}
