using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// A trained model refuses data it would score wrongly, and a damaged or foreign model file is named as such.
/// </summary>
[Trait("Category", "Integration")]
public class ModelInputTests : IDisposable
{
    private readonly MLContext ml = new(1);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class WideRow
    {
        public string Label { get; set; } = "";
        [VectorType(5)] public float[] Features { get; set; } = new float[5];
    }

    private IDataView Data(int rows = 30, int classes = 3, int shift = 0) => TinyClassifier.Data(ml, rows, classes, shift);

    private TransformerChain<BlockSparseModel> Train() => TinyClassifier.Train(ml);

    private IDataView KeyedOnItsOwn(IDataView data) => ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);

    [Fact]
    public void FeaturesOfAnotherLengthAreRejectedNamingBothLengths()
    {
        var model = Train();
        var wide = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(_ => new WideRow { Label = "a" }));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.LastTransformer.Transform(wide));
        Assert.Contains("Feature column 'Features' has 5 values per row, but the model was trained on 4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(wide));

        // A model reloaded from its zip is a chain of ML.NET's own transformers: the check is ONNX Runtime's,
        // which names the column and both lengths too, when the rows are read.
        var path = temp.File("model.zip");
        ml.Model.Save(model, Data().Schema, path);
        var loaded = BlockSparseModelFile.Load(new MLContext(), path, out _);
        var reloaded = Assert.Throws<InvalidOperationException>(() => loaded.Transform(wide).Preview());
        Assert.Contains("Input 'Features' has shape 4, but input data is of length 5", reloaded.Message);
    }

    [Fact]
    public void LabelKeysOfOtherClassesAreRejectedBeforeTheyCorruptTheMetrics()
    {
        var model = Train();

        // Test labels mapped by a MapValueToKey fitted on the test data itself: 2 classes, not 3.
        var twoClasses = KeyedOnItsOwn(Data(classes: 2));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.LastTransformer.Transform(twoClasses));
        Assert.Contains("Label column 'Label' is a key of 2 classes in this data, but the model was trained on 3", e.Message);
        Assert.Contains("MapValueToKey transformer fitted on the training data", e.Message);

        // Same 3 classes, first seen in another order, so "b" is key 1 here and key 2 there.
        var reordered = KeyedOnItsOwn(Data(shift: 1));
        var order = Assert.Throws<ArgumentOutOfRangeException>(() => model.LastTransformer.Transform(reordered));
        Assert.Contains("has the model's 3 classes, but in another order or with other values (class 0 is 'b' here and 'a' in the training data)", order.Message);

        // The fitted pipeline maps the test labels with the training keys: accepted and evaluated.
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(Data(shift: 1)));
        Assert.InRange(metrics.MicroAccuracy, 0, 1);
        // Unlabelled data, or a label that is not a key, is scored as usual.
        var unlabelled = ml.Transforms.DropColumns("Label").Fit(Data()).Transform(Data());
        Assert.Equal(30, model.LastTransformer.Transform(unlabelled).GetColumn<float[]>("Score").Count());
    }

    [Fact]
    public void TruncatedOrForeignModelFilesAreNamedAsSuch()
    {
        var model = Train();
        var good = temp.File("model.zip");
        ml.Model.Save(model, Data().Schema, good);
        var bytes = File.ReadAllBytes(good);

        var truncated = temp.File("truncated.zip");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 2 / 3)]);
        var text = temp.File("notes.zip");
        File.WriteAllText(text, "not a zip at all");
        var foreign = temp.File("foreign.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(foreign, System.IO.Compression.ZipArchiveMode.Create))
        using (var writer = new StreamWriter(archive.CreateEntry("readme.txt").Open()))
            writer.Write("holiday photos");
        var notAClassifier = temp.File("keys-only.zip");
        ml.Model.Save(ml.Transforms.Conversion.MapValueToKey("Label").Fit(Data()), Data().Schema, notAClassifier);

        string Error(string path) => Assert.Throws<InvalidDataException>(() => BlockSparseModelFile.Load(new MLContext(), path, out _)).Message;
        Assert.Contains($"Model file '{truncated}' is not a complete zip archive", Error(truncated));
        Assert.Contains("It may have been truncated", Error(truncated));
        Assert.Contains($"Model file '{text}' is not a complete zip archive", Error(text));
        Assert.Contains($"Model file '{foreign}' is a zip archive but not a loadable ML.NET model", Error(foreign));
        Assert.Contains($"Model file '{notAClassifier}' is an ML.NET model, but not a classifier", Error(notAClassifier));
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => BlockSparseModelFile.Load(new MLContext(), temp.File("none.zip"), out _)).Message);

        // The good file loads and scores, with the arg-max mapping registered by the loader.
        var loaded = BlockSparseModelFile.Load(new MLContext(), good, out var schema);
        Assert.Equal(30, loaded.Transform(Data()).GetColumn<float[]>("Score").Count());
        Assert.NotNull(schema.GetColumnOrNull("Features"));

        // The sample's predict says the same, without a stack trace.
        var (code, output) = SampleApp.RunWithExitCode("predict", "--model", truncated, "--data", temp.Path);
        Assert.Equal(1, code);
        Assert.Contains($"error: Model file '{truncated}' is not a complete zip archive", output);
        Assert.DoesNotContain("   at ", output);
    }
}
