using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Training;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>A run whose loss stops being finite ends with a message saying where and what to change, not a NaN model.</summary>
[Trait("Category", "Integration")]
public class DivergenceTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    // (At 1e6 the loss on MNIST explodes to about 1e26 but stays finite: that run is not stopped, and
    // its log shows it. Float32 overflows, and the loss turns NaN, at 1e10.)
    [Fact]
    public void AbsurdLearningRateStopsWithEpochBatchAndAdvice()
    {
        var ml = new MLContext(1);
        var epochs = new List<EpochSummary>();
        var options = new BlockSparseTrainer.Options
        {
            FeatureColumnName = nameof(IdxImage.Pixels),
            HiddenLayers = [32],
            Epochs = 3,
            Device = ComputeDevice.Cpu,
            LearningRate = 1e10,
            CheckpointDirectory = temp.File("checkpoints"),
            Progress = new OnEpoch(epochs.Add),
        };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(options));

        var e = Assert.Throws<TrainingDivergedException>(() => pipeline.Fit(IdxDataset.ToDataView(ml, mnist.Train.Take(500).ToList())));

        Assert.Matches(@"^Training diverged in epoch 1, batch \d+ of 4: the loss became (NaN|-?∞|-?Infinity)", e.Message);
        Assert.Contains("Lower BlockSparseTrainer.Options.LearningRate (it is 1E+10; try 1E+09)", e.Message);
        Assert.Contains("NormalizeMinMax", e.Message);
        Assert.Equal(1, e.Epoch);
        Assert.InRange(e.Batch!.Value, 1, 4);
        // Nothing of the diverged epoch was reported or kept.
        Assert.Empty(epochs);
        Assert.False(Directory.Exists(options.CheckpointDirectory) && Directory.EnumerateFiles(options.CheckpointDirectory).Any());
    }

    [Fact]
    public void DeferredCheckFindsTheFirstBadBatchAtTheEndOfTheEpoch()
    {
        // The GPU path (no read per batch), run on the CPU: batches 1 and 2 fine, 3 and 4 NaN.
        using var network = new BlockSparseNetwork(LayerPlan.ForMlp(6, [4], 2, 1, new BlockShape(2, 3), null), seed: 1);
        using var guard = new DivergenceGuard(CPU, 0.003, batchesPerEpoch: 4, checkEveryBatch: false);
        foreach (var (batch, loss) in new[] { 0.5f, 0.4f, float.NaN, float.PositiveInfinity }.Select((l, i) => (i, l)))
        {
            using var value = tensor(loss);
            guard.Observe(value, epoch: 1, batch);  // no exception yet
        }
        var e = Assert.Throws<TrainingDivergedException>(() => guard.CheckEpoch(network, epoch: 1));
        Assert.StartsWith("Training diverged in epoch 2, batch 3 of 4: the loss became NaN or infinite", e.Message);
    }

    [Fact]
    public void WeightsMadeNonFiniteByTheLastStepAreCaught()
    {
        using var network = new BlockSparseNetwork(LayerPlan.ForMlp(6, [4], 2, 1, new BlockShape(2, 3), null), seed: 1);
        using var guard = new DivergenceGuard(CPU, 0.003, batchesPerEpoch: 4);
        guard.CheckEpoch(network, epoch: 0);  // all finite: nothing to say
        using (no_grad())
        using (var minusInfinity = Scalars.Of(double.NegativeInfinity))
            network.FactoredLayers.First().Right.fill_(minusInfinity);
        var e = Assert.Throws<TrainingDivergedException>(() => guard.CheckEpoch(network, epoch: 0));
        Assert.StartsWith("Training diverged in epoch 1: 'layers.0.candidates.0.right' became NaN or infinite after the epoch's last step", e.Message);
        Assert.Null(e.Batch);
    }
}
