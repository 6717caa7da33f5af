using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The library's side of a test label the training set never had: the fitted <c>MapValueToKey</c> gives it the
/// missing key, the model still scores the row (prediction needs no label), and ML.NET's evaluator leaves it
/// out of the metrics. Documented in the README ("Bad input, everywhere"); the sample refuses such test sets.
/// </summary>
public class MissingLabelScoringTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "";

        [VectorType(4)]
        public float[] Features { get; set; } = new float[4];
    }

    [Fact]
    public void RowWithALabelUnseenInTrainingIsScoredButNotEvaluated()
    {
        var ml = new MLContext(1);
        Row Make(string label, int i) => new() { Label = label, Features = label == "0" ? [1, 0, i, 0] : [0, 1, 0, i] };
        var train = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 40).Select(i => Make((i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture), i)));
        var test = ml.Data.LoadFromEnumerable([Make("0", 1), Make("1", 2), Make("200", 3)]);
        var options = new BlockSparseTrainer.Options { HiddenLayers = [4], Epochs = 1, Device = ComputeDevice.Cpu };
        using var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(options)).Fit(train);

        var scored = model.Transform(test);

        Assert.Equal([1u, 2u, 0u], scored.GetColumn<uint>("Label"));           // 200 became the missing key
        Assert.All(scored.GetColumn<uint>("PredictedLabel"), p => Assert.InRange(p, 1u, 2u));   // yet every row is scored
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(2, metrics.ConfusionMatrix.Counts.Sum(row => row.Sum()));  // and only 2 of the 3 rows are evaluated
    }
}
