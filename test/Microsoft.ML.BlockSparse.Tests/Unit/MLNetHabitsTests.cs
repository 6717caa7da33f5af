using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// What ML.NET users do with any trainer: permutation feature importance, cross-validation, and watching
/// training progress through the catalog overload's named arguments.
/// </summary>
public class MLNetHabitsTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    // Only slot 0 tells the class ("yes" ~ +1, "no" ~ -1); slots 1-3 are noise.
    private static IDataView Keyed(MLContext ml, int rows = 200)
    {
        var random = new Random(7);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new Row
        {
            Label = i % 2 == 0 ? "yes" : "no",
            Features = [(i % 2 == 0 ? 1f : -1f) + (float)(random.NextDouble() - 0.5) * 0.4f,
                (float)random.NextDouble(), (float)random.NextDouble(), (float)random.NextDouble()],
        }).ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    [Fact]
    public void PermutationFeatureImportanceFindsTheInformativeSlot()
    {
        var ml = new MLContext(1);
        var data = Keyed(ml);
        using var model = ml.MulticlassClassification.Trainers.BlockSparse(hiddenLayers: [8], epochs: 10, seed: 1).Fit(data);
        Assert.True(ml.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy > 0.95);

        var importance = ml.MulticlassClassification.PermutationFeatureImportance(model, data, permutationCount: 2);

        Assert.Equal(4, importance.Length);
        var drops = importance.Select(m => m.MicroAccuracy.Mean).ToArray();
        Assert.True(drops[0] < -0.3, $"permuting the informative slot changed accuracy by {drops[0]:F3}");
        Assert.All(drops.Skip(1), d => Assert.True(Math.Abs(d) < 0.1, $"permuting a noise slot changed accuracy by {d:F3}"));
    }

    [Fact]
    public void CrossValidateTrainsAndScoresEveryFold()
    {
        var ml = new MLContext(1);
        var results = ml.MulticlassClassification.CrossValidate(Keyed(ml), ml.MulticlassClassification.Trainers.BlockSparse(hiddenLayers: [8], epochs: 10, seed: 1), numberOfFolds: 3);

        Assert.Equal(3, results.Count);
        Assert.All(results, fold => Assert.True(fold.Metrics.MicroAccuracy > 0.9, $"fold {fold.Fold}: accuracy {fold.Metrics.MicroAccuracy:P1}"));
    }

    [Fact]
    public void TheNamedArgumentOverloadReportsEveryEpoch()
    {
        var ml = new MLContext(1);
        var seen = new List<EpochSummary>();
        using var model = ml.MulticlassClassification.Trainers.BlockSparse(hiddenLayers: [8], epochs: 3, seed: 1, progress: new Recorder(seen)).Fit(Keyed(ml, rows: 40));

        Assert.Equal([1, 2, 3], seen.Select(s => s.Epoch));
        Assert.Equal(model.History.Select(h => h.Loss), seen.Select(s => s.Loss));
    }

    [Theory]
    [InlineData(0, 10, "[....................]")]
    [InlineData(5, 10, "[##########..........]")]
    [InlineData(10, 10, "[####################]")]
    public void TheSamplesProgressBarFillsWithTheEpochs(int done, int total, string bar) => Assert.Equal(bar, Samples.ConsoleProgress.Bar(done, total));

    private sealed class Recorder(List<EpochSummary> seen) : IProgress<EpochSummary>
    {
        public void Report(EpochSummary value) => seen.Add(value);
    }
}
