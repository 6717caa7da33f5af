using Microsoft.ML.BlockSparse.Data;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Validation accuracy after every epoch, early stopping that keeps the best epoch, and divergence.</summary>
[Trait("Category", "Integration")]
public class ValidationTests(MnistSlice mnist, ITestOutputHelper output) : IClassFixture<MnistSlice>
{
    private static BlockSparseTrainer.Options Options() => new()
    {
        FeatureColumnName = nameof(IdxImage.Pixels),
        HiddenLayers = [32],
        Epochs = 3,
        Seed = 5,
        Device = ComputeDevice.Cpu,
    };

    [Fact]
    public void ValidationFractionIsHeldOutAndScoredEveryEpoch()
    {
        var ml = new MLContext(1);
        var logged = new List<string>();
        ml.Log += (_, e) => { lock (logged) logged.Add(e.Message); };
        var options = Options();
        options.ValidationFraction = 0.25;
        options.BatchSize = 32;
        options.LogContext = ml;
        var data = IdxDataset.ToDataView(ml, mnist.Train.Take(1000).ToList());
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(options)).Fit(data).LastTransformer;

        Assert.All(model.History, e => Assert.InRange(e.ValidationAccuracy!.Value, 0.0, 1.0));
        // 60.8 % after 3 epochs on 750 rows, still early in learning and so more volatile than the others:
        // a wider margin than MnistSlice.AccuracyMargin, still five times chance (10 %).
        Assert.True(model.History[^1].ValidationAccuracy > 0.5, model.History[^1].ToString());
        Assert.Contains(logged, m => m.Contains("training 750 rows") && m.Contains("validating on 250 rows"));
        Assert.Contains(logged, m => m.Contains("val acc " + model.History[^1].ValidationAccuracy!.Value.ToString("P2", System.Globalization.CultureInfo.InvariantCulture)));
        // Without early stopping the last epoch is kept, whatever validation says.
        Assert.Equal(3, model.KeptEpoch);
        // Without validation there is nothing to report.
        var plain = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(Options())).Fit(data).LastTransformer;
        Assert.All(plain.History, e => Assert.Null(e.ValidationAccuracy));
        Assert.DoesNotContain("val acc", plain.History[0].ToString());
    }

    [Fact]
    public void EarlyStoppingKeepsTheBestEpochsWeights()
    {
        var ml = new MLContext(1);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(IdxDataset.ToDataView(ml, mnist.Train.Take(2000).ToList()));
        var train = keys.Transform(IdxDataset.ToDataView(ml, mnist.Train.Take(2000).ToList()));
        var validation = keys.Transform(IdxDataset.ToDataView(ml, mnist.Train.Skip(2000).Take(500).ToList()));
        var options = Options();
        // A learning rate far too high for a constant schedule: validation accuracy jumps around, and later
        // epochs are not reliably better, so the kept weights must be the best epoch's, not the last's.
        options.LearningRate = 0.05;
        options.LearningRateSchedule = LearningRateSchedule.Constant;
        options.Epochs = 15;
        options.EarlyStoppingPatience = 2;
        options.ValidationSet = validation;
        var model = ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(train);
        foreach (var epoch in model.History)
            output.WriteLine(epoch.ToString());

        var accuracies = model.History.Select(e => e.ValidationAccuracy!.Value).ToList();
        int best = accuracies.IndexOf(accuracies.Max()) + 1;
        Assert.Equal(best, model.KeptEpoch);
        Assert.True(model.History.Count < options.Epochs, "early stopping never stopped the run");
        Assert.Equal(best + options.EarlyStoppingPatience, model.History.Count);
        // The model scores the validation rows as well as the best epoch did (ONNX Runtime and TorchSharp may
        // round a near-tie differently, hence one row of slack), and better than the last epoch.
        var kept = ml.MulticlassClassification.Evaluate(model.Transform(validation)).MicroAccuracy;
        Assert.InRange(kept, accuracies.Max() - 1.0 / 500, accuracies.Max() + 1.0 / 500);
        Assert.True(kept > accuracies[^1] + 1.0 / 500, $"kept {kept:P2}, last epoch {accuracies[^1]:P2}");
    }
}
