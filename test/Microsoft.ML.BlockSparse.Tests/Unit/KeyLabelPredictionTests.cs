using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// <c>PredictedLabel</c> is a key of the label's own type whose raw value is arg-max(<c>Score</c>) + 1, for a label
/// given as a bare <c>[KeyType(n)] uint</c> (no key values) as much as for one from <c>MapValueToKey</c>, in the
/// trained model and after both ways of loading a saved zip. ML.NET's evaluator reads <c>Score</c>, not
/// <c>PredictedLabel</c>, so its accuracy alone cannot catch a <c>PredictedLabel</c> that is off by one; each check
/// compares it with an accuracy counted from <c>PredictedLabel</c>. SdcaMaximumEntropy on the same data is the
/// reference for what ML.NET's own trainers give.
/// </summary>
public class KeyLabelPredictionTests : IDisposable
{
    private const int Classes = 3;
    private readonly TempFolder temp = new();

    // No key values annotation. LoadFromEnumerable stores a [KeyType(n)] property's value v as the raw key v + 1
    // (and v >= n as 0, missing), so the property holds the 0-based class index and the column raw keys 1..n.
    private sealed class KeyRow
    {
        [KeyType(Classes)]
        public uint Label { get; set; }

        [VectorType(4)]
        public float[] Features { get; set; } = new float[4];
    }

    // The key type holds one more class than occurs: key 4 never appears in training.
    private sealed class WideKeyRow
    {
        [KeyType(Classes + 1)]
        public uint Label { get; set; }

        [VectorType(4)]
        public float[] Features { get; set; } = new float[4];
    }

    private sealed class TextRow
    {
        public string Label { get; set; } = "";

        [VectorType(4)]
        public float[] Features { get; set; } = new float[4];
    }

    // A number label: MapValueToKey keys it over uint values, which ML.NET's MapValue would take as raw keys.
    private sealed class NumberRow
    {
        public uint Label { get; set; }

        [VectorType(4)]
        public float[] Features { get; set; } = new float[4];
    }

    private static readonly uint[] Numbers = [7, 0, 3];

    // Class c (0-based) lights feature c; the 4th feature is noise. Separable by a linear model.
    private static float[] FeaturesOf(int c, int i) =>
        [c == 0 ? 1f : 0f, c == 1 ? 1f : 0f, c == 2 ? 1f : 0f, (i % 7) / 7f];

    private static IDataView KeyData(MLContext ml, bool unseenClass) => unseenClass
        ? ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new WideKeyRow { Label = (uint)(i % Classes), Features = FeaturesOf(i % Classes, i) }))
        : ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new KeyRow { Label = (uint)(i % Classes), Features = FeaturesOf(i % Classes, i) }));

    private static IDataView TextData(MLContext ml) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new TextRow { Label = "abc"[i % Classes].ToString(), Features = FeaturesOf(i % Classes, i) }));

    private static BlockSparseTrainer.Options Options() => new()
    {
        HiddenLayers = [8], Epochs = 30, LearningRate = 0.05, Device = ComputeDevice.Cpu, Seed = 1,
    };

    // What the report that raised these tests saw: a data class holding 1..3 in a [KeyType(3)] property reads back as
    // raw keys 2, 3, 0, since ML.NET takes the property as the 0-based index; 3 is out of range and becomes missing.
    [Fact]
    public void LoadFromEnumerableTakesAKeyPropertyAsTheZeroBasedIndex()
    {
        var ml = new MLContext(1);
        var oneBased = ml.Data.LoadFromEnumerable(new uint[] { 1, 2, 3 }.Select(v => new KeyRow { Label = v }));
        Assert.Equal([2u, 3u, 0u], oneBased.GetColumn<uint>("Label"));
        var zeroBased = ml.Data.LoadFromEnumerable(new uint[] { 0, 1, 2 }.Select(v => new KeyRow { Label = v }));
        Assert.Equal([1u, 2u, 3u], zeroBased.GetColumn<uint>("Label"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BareKeyLabelGivesPredictedKeysThatFollowTheScoreAndMatchTheLabel(bool unseenClass)
    {
        var ml = new MLContext(1);
        var data = KeyData(ml, unseenClass);
        var model = ml.MulticlassClassification.Trainers.BlockSparse(Options()).Fit(data);
        AssertAllWays(ml, model, data);
    }

    [Fact]
    public void TextLabelThroughMapValueToKeyGivesPredictedKeysThatFollowTheScoreAndMatchTheLabel()
    {
        var ml = new MLContext(1);
        var data = TextData(ml);
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(Options())).Fit(data);
        AssertAllWays(ml, model, data);
        // And the key values come back as the label's texts.
        var scored = model.Transform(data);
        var back = ml.Transforms.Conversion.MapKeyToValue("PredictedText", "PredictedLabel").Fit(scored).Transform(scored);
        var texts = back.GetColumn<ReadOnlyMemory<char>>("PredictedText").Select(t => t.ToString()).ToArray();
        var labels = data.GetColumn<string>("Label").ToArray();
        Assert.True(texts.Zip(labels).Count(p => p.First == p.Second) >= 0.9 * labels.Length, string.Join(",", texts));
    }

    [Fact]
    public void UIntLabelThroughMapValueToKeyGivesPredictedKeysThatFollowTheScoreAndMatchTheLabel()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new NumberRow { Label = Numbers[i % Classes], Features = FeaturesOf(i % Classes, i) }));
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(Options())).Fit(data);
        AssertAllWays(ml, model, data);
        // The key values come back as the label's numbers (as text: MapValue's key values are text).
        var scored = model.Transform(data);
        var back = ml.Transforms.Conversion.MapKeyToValue("PredictedNumber", "PredictedLabel").Fit(scored).Transform(scored);
        var texts = back.GetColumn<ReadOnlyMemory<char>>("PredictedNumber").Select(t => t.ToString()).ToArray();
        var labels = data.GetColumn<uint>("Label").Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(texts.Zip(labels).Count(p => p.First == p.Second) >= 0.9 * labels.Length, string.Join(",", texts));
    }

    // The reference: what ML.NET's own multiclass trainer gives on the same data, through the same checks.
    [Fact]
    public void SdcaMaximumEntropyPassesTheSameChecks()
    {
        var ml = new MLContext(1);
        foreach (var unseenClass in new[] { false, true })
        {
            var keyData = KeyData(ml, unseenClass);
            AssertPredictions(ml, ml.MulticlassClassification.Trainers.SdcaMaximumEntropy().Fit(keyData).Transform(keyData), $"SDCA, bare key, unseen class {unseenClass}");
        }
        var textData = TextData(ml);
        var text = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(textData);
        AssertPredictions(ml, text.Transform(textData), "SDCA, MapValueToKey");
    }

    private void AssertAllWays(MLContext ml, ITransformer model, IDataView data)
    {
        AssertPredictions(ml, model.Transform(data), "trained model");

        var path = temp.File(Guid.NewGuid().ToString("N") + ".zip");
        ml.Model.Save(model, data.Schema, path);
        var viaFile = BlockSparseModelFile.Load(new MLContext(2), path, out _);
        AssertPredictions(ml, viaFile.Transform(data), "BlockSparseModelFile.Load");
        var plain = new MLContext(3).Model.Load(path, out _);
        AssertPredictions(ml, plain.Transform(data), "MLContext.Model.Load");
    }

    private static void AssertPredictions(MLContext ml, IDataView scored, string what)
    {
        var label = (KeyDataViewType)scored.Schema["Label"].Type;
        var predictedType = scored.Schema["PredictedLabel"].Type;
        Assert.True(predictedType is KeyDataViewType k && k.Count == label.Count, $"{what}: PredictedLabel is {predictedType}, the label {label}.");

        var labels = scored.GetColumn<uint>("Label").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        for (int row = 0; row < labels.Length; row++)
        {
            // Raw key values are 1-based: class index i is key i + 1, key 0 is missing.
            uint argMax = (uint)Array.IndexOf(scores[row], scores[row].Max());
            Assert.True(predicted[row] == argMax + 1,
                $"{what}, row {row}: PredictedLabel is key {predicted[row]}, arg-max of Score [{string.Join(", ", scores[row])}] is class {argMax} (key {argMax + 1}).");
        }

        double handAccuracy = labels.Zip(predicted).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.True(handAccuracy >= 0.9, $"{what}: PredictedLabel equals Label on {handAccuracy:P0} of separable training rows; labels {string.Join(",", labels)}, predicted {string.Join(",", predicted)}.");
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(handAccuracy, metrics.MicroAccuracy, 6);
    }

    public void Dispose() => temp.Dispose();
}
