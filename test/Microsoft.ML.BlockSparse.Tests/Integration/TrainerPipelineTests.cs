using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The trainer inside real ML.NET pipelines, on a slice of real MNIST.</summary>
[Trait("Category", "Integration")]
public class TrainerPipelineTests(MnistSlice mnist) : IClassFixture<MnistSlice>
{
    [Fact]
    public void PipelineReachesAccuracyAndReportsSparsity()
    {
        var ml = new MLContext(1);
        var epochs = new List<EpochSummary>();
        var logged = new List<string>();
        ml.Log += (_, e) => { lock (logged) logged.Add(e.Message); };
        var options = MnistSlice.QuickOptions();
        options.Progress = new Collect(epochs);
        options.LogContext = ml;
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabelText", "PredictedLabel"));

        var model = pipeline.Fit(IdxDataset.ToDataView(ml, mnist.Train));
        var scored = model.Transform(IdxDataset.ToDataView(ml, mnist.Test));
        var metrics = ml.MulticlassClassification.Evaluate(scored);

        // Reaches 93.6 % on this code; see MnistSlice.AccuracyMargin.
        Assert.True(metrics.MicroAccuracy >= 0.88, $"micro accuracy {metrics.MicroAccuracy:P2} on {MnistSlice.TestRows} test rows");
        Assert.Equal(options.Epochs, epochs.Count);
        // Each epoch's line also went to ML.NET's log channel.
        Assert.Contains(logged, m => m.Contains("Kind=Info") && m.Contains(epochs[^1].ToString()));
        Assert.True(epochs[^1].Loss < epochs[0].Loss, "loss did not fall");

        var report = model.OfType<BlockSparseModel>().Single().Report;
        Assert.True(report.ZeroBlocks > 0, "λ1 produced no zero block");
        Assert.True(report.TrainableParameters < report.DenseParameters / 10);
        Assert.Equal(epochs[^1].BlockSparsity, report.BlockSparsity, 12);

        // PredictedLabel has the label's key type, so MapKeyToValue gives back the digits as text.
        var predicted = model.Transform(IdxDataset.ToDataView(ml, mnist.Test.Take(200).ToList()))
            .GetColumn<ReadOnlyMemory<char>>("PredictedLabelText").Select(t => t.ToString()).ToList();
        var truth = mnist.Test.Take(200).Select(r => r.Label).ToList();
        Assert.True(predicted.Zip(truth).Count(p => p.First == p.Second) >= 170, "key values were not mapped back to the right digits");
    }

    [Fact]
    public void PredictionEngineScoresSingleRows()
    {
        var ml = new MLContext(1);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(MnistSlice.QuickOptions(epochs: 3)))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"))
            .Fit(IdxDataset.ToDataView(ml, mnist.Train));

        var engine = ml.Model.CreatePredictionEngine<IdxImage, DigitPrediction>(model, inputSchemaDefinition: IdxDataset.Schema(784));
        int correct = 0;
        foreach (var row in mnist.Test.Take(100))
        {
            var prediction = engine.Predict(row);
            Assert.Equal(10, prediction.Score.Length);
            Assert.Equal(1.0, prediction.Score.Sum(), 3);
            if (prediction.PredictedDigit == row.Label)
                correct++;
        }
        Assert.True(correct >= 80, $"{correct}/100 correct");
    }

    [Fact]
    public void SameSeedSameDataGivesIdenticalScores()
    {
        float[][] TrainAndScore(int seed)
        {
            var ml = new MLContext(1);
            var data = IdxDataset.ToDataView(ml, mnist.Train.Take(2000).ToList());
            var options = MnistSlice.QuickOptions(epochs: 2);
            options.Seed = seed;
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
                .Fit(data);
            return model.Transform(IdxDataset.ToDataView(ml, mnist.Test.Take(100).ToList())).GetColumn<float[]>("Score").ToArray();
        }

        var first = TrainAndScore(seed: 1);
        Assert.Equal(first, TrainAndScore(seed: 1));
        // ...and the seed is what decides: another seed trains another model.
        Assert.NotEqual(first, TrainAndScore(seed: 2));
    }

    public sealed class DigitPrediction
    {
        public string PredictedDigit { get; set; } = "";
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    private sealed class Collect(List<EpochSummary> into) : IProgress<EpochSummary>
    {
        public void Report(EpochSummary value) => into.Add(value);
    }
}
