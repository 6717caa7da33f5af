using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The small data set and model the model-file tests share: 4 features, labels "a", "b", "c" (first
/// seen in that order), and a one-epoch BlockSparse model trained on them.
/// </summary>
internal static class TinyClassifier
{
    public sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    /// <param name="shift">Starts the label cycle later: with 1, "b" is seen first.</param>
    public static IDataView Data(MLContext ml, int rows = 30, int classes = 3, int shift = 0)
        => ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new Row
        {
            Label = ((char)('a' + (i + shift) % classes)).ToString(),
            Features = [(i + shift) % classes, 1, 0, 1],
        }).ToList());

    public static TransformerChain<BlockSparseModel> Train(MLContext ml, int hidden = 4)
        => ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(new BlockSparseTrainer.Options { HiddenLayers = [hidden], Epochs = 1, Device = ComputeDevice.Cpu }))
            .Fit(Data(ml));

    /// <summary>Trains and saves to <paramref name="path"/> with <c>mlContext.Model.Save</c>; returns the path.</summary>
    public static string Save(MLContext ml, string path, int hidden = 4)
    {
        ml.Model.Save(Train(ml, hidden), Data(ml).Schema, path);
        return path;
    }
}
