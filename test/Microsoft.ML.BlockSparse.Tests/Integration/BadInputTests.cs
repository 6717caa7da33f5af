using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Every kind of bad input gets an exception that names what was wrong and what was expected.</summary>
[Trait("Category", "Integration")]
public class BadInputTests : IDisposable
{
    private readonly MLContext ml = new(1);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class Row
    {
        public string Label { get; set; } = "";
        public float FloatLabel { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
        [VectorType] public float[] Variable { get; set; } = new float[4];
        [VectorType(4)] public double[] Doubles { get; set; } = new double[4];
        public float Scalar { get; set; }
    }

    private sealed class WideRow
    {
        public string Label { get; set; } = "";
        [VectorType(5)] public float[] Features { get; set; } = new float[5];
    }

    private IDataView Data(int rows = 20, float poison = 0, int poisonRow = -1)
        => ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new Row
        {
            Label = (i % 2).ToString(),
            FloatLabel = i % 2,
            Features = i == poisonRow ? [1, poison, 3, 4] : [i, 1, 2, 3],
            Variable = [1, 2, 3, 4],
            Doubles = [1, 2, 3, 4],
        }));

    private BlockSparseTrainer Trainer(Action<BlockSparseTrainer.Options>? change = null)
    {
        var options = new BlockSparseTrainer.Options { HiddenLayers = [4], Epochs = 1, Device = ComputeDevice.Cpu };
        change?.Invoke(options);
        return ml.MulticlassClassification.Trainers.BlockSparse(options);
    }

    private IDataView Keyed(IDataView data) => ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);

    [Fact]
    public void LabelThatIsNotAKeyNamesTheColumnAndTheFix()
    {
        var trainer = Trainer(o => o.LabelColumnName = nameof(Row.FloatLabel));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(Data()));
        Assert.Contains("Label column 'FloatLabel' must be a key type (it is Single)", e.Message);
        Assert.Contains("MapValueToKey", e.Message);
        // In a pipeline the same check runs at schema propagation, before any row is read: rows that
        // throw when read would otherwise turn the error into theirs.
        var pipeline = ml.Transforms.CopyColumns("Copy", nameof(Row.Features)).Append(trainer);
        var unreadable = ml.Data.LoadFromEnumerable(Unreadable());
        var shapeError = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Fit(unreadable));
        Assert.Contains("'FloatLabel' must be a key type", shapeError.Message);
    }

    private static IEnumerable<Row> Unreadable()
    {
        yield return new Row();
        throw new InvalidOperationException("a row was read before the schema was checked");
    }

    [Theory]
    [InlineData(nameof(Row.Variable), "VarVector<Single>")]
    [InlineData(nameof(Row.Doubles), "Vector<Double")]
    [InlineData(nameof(Row.Scalar), "Single")]
    public void FeaturesThatAreNotAKnownSizeFloatVectorAreRejected(string column, string described)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.FeatureColumnName = column).Fit(Keyed(Data())));
        Assert.Contains($"Feature column '{column}' must be a vector of Single (float) of known size", e.Message);
        Assert.Contains(described, e.Message);
    }

    [Fact]
    public void MissingColumnListsTheColumnsThatExist()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.FeatureColumnName = "Pixels").Fit(Keyed(Data())));
        Assert.Contains("The feature column 'Pixels' is not in the input", e.Message);
        Assert.Contains("'Features'", e.Message);
    }

    [Fact]
    public void BlockShapeThatDoesNotDivideItsLayerIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Trainer(o => o.LayerBlockShapes = [new BlockShape(3, 2), new BlockShape(1, 2)]).Fit(Keyed(Data())));
        Assert.Contains("LayerBlockShapes[0] is 3x2, which does not tile layer 0 (4 out x 4 in)", e.Message);
    }

    [Fact]
    public void SharedBlockShapeThatTilesNoLayerIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.BlockShape = new BlockShape(3, 3)).Fit(Keyed(Data())));
        Assert.Contains("BlockShape 3x3 tiles none of the layers", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void RankBelowOneIsRejected(int rank)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.Rank = rank));
        Assert.Equal("Rank", e.ParamName);
        Assert.Contains($"Options.Rank is {rank}; the Kronecker rank must be at least 1", e.Message);
    }

    [Fact]
    public void CudaWithoutCudaNativesSaysHowToGetThem()
    {
        if (TorchSharp.torch.cuda.is_available())
            return;  // a CUDA build on a GPU machine: nothing to refuse
        var e = Assert.Throws<InvalidOperationException>(() => Trainer(o => o.Device = ComputeDevice.Cuda).Fit(Keyed(Data())));
        Assert.Contains("Device = Cuda was requested, but TorchSharp sees no CUDA device", e.Message);
        Assert.Contains("TorchSharp-cuda-linux", e.Message);
    }

    [Fact]
    public void EmptyTrainingDataIsRejected()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Trainer().Fit(ml.Data.FilterRowsByColumn(Keyed(Data()), nameof(Row.FloatLabel), lowerBound: 5, upperBound: 6)));
        Assert.Contains("The training data is empty", e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void NonFiniteFeatureNamesRowAndSlot(float poison)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Trainer().Fit(Keyed(Data(poison: poison, poisonRow: 7))));
        Assert.Contains($"Row 7: feature column 'Features' holds {poison} at slot 1", e.Message);
    }

    [Fact]
    public void LabelsOfASingleClassAreRejected()
    {
        // A key type of one value: refused from the schema.
        var oneValue = ml.Data.FilterRowsByColumn(Data(), nameof(Row.FloatLabel), upperBound: 0.5);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer().Fit(Keyed(oneValue)));
        Assert.Contains("Label column 'Label' has 1 classes; multiclass classification needs at least 2", e.Message);

        // A key type of two values, but every row of one: refused once the rows are read.
        var oneClassPresent = ml.Data.FilterRowsByColumn(Keyed(Data()), nameof(Row.FloatLabel), lowerBound: 0.5);
        var rows = Assert.Throws<InvalidOperationException>(() => Trainer().Fit(oneClassPresent));
        Assert.Contains("All 10 training rows have the same label, class 1 ('1') of column 'Label'", rows.Message);
        Assert.Contains("needs rows of at least 2 classes", rows.Message);
    }

    [Fact]
    public void ValidationSetOfAnotherShapeIsRejected()
    {
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(Data());
        var wrongKeys = Keyed(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new Row { Label = (i % 3).ToString() })));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.ValidationSet = wrongKeys).Fit(keys.Transform(Data())));
        Assert.Equal("ValidationSet", e.ParamName);
        Assert.Contains("ValidationSet's label column 'Label' is a key of 3 classes; the training data's has 2", e.Message);

        var reordered = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new Row { Label = ((i + 1) % 2).ToString() }));
        var otherOrder = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.ValidationSet = Keyed(reordered)).Fit(keys.Transform(Data())));
        Assert.Contains("ValidationSet's label keys are not the training data's (class 0 is '1' there and '0' in the training data)", otherOrder.Message);

        var longer = keys.Transform(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new WideRow { Label = (i % 2).ToString() })));
        var length = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(o => o.ValidationSet = longer).Fit(keys.Transform(Data())));
        Assert.Contains("ValidationSet has 5 values in feature column 'Features'; the training data has 4", length.Message);

        var empty = keys.Transform(ml.Data.FilterRowsByColumn(Data(), nameof(Row.FloatLabel), lowerBound: 5, upperBound: 6));
        var none = Assert.Throws<InvalidOperationException>(() => Trainer(o => o.ValidationSet = empty).Fit(keys.Transform(Data())));
        Assert.Contains("BlockSparseTrainer.Options.ValidationSet is empty: it has no rows", none.Message);
    }

    [Fact]
    public void DataFolderMissingAFileNamesIt()
    {
        foreach (var name in IdxDataset.FileNames.Skip(1))
            File.WriteAllBytes(temp.File(name), []);
        var e = Assert.Throws<FileNotFoundException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains("lacks train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void MalformedIdxFilesAreRejectedWithTheReason()
    {
        WriteIdx("train-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]); // 2 images of 2x2, truncated
        WriteIdx("train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 2, 1, 0]);
        WriteIdx("t10k-images-idx3-ubyte", [0x1F, 0x8B, 8, 0]);                                   // not IDX at all
        WriteIdx("t10k-labels-idx1-ubyte", [0, 0, 8, 3, 0, 0, 0, 1]);                                // wrong dimensions

        var truncated = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains("is truncated: its header promises 8 bytes", truncated.Message);
        var notIdx = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: false));
        Assert.Contains("is not an IDX file of unsigned bytes", notIdx.Message);

        WriteIdx("t10k-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9]);
        var wrongDims = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: false));
        Assert.Contains("has 3 dimensions; expected 1", wrongDims.Message);
    }

    [Fact]
    public void SampleAppReportsABadDataFolderWithoutAStackTrace()
    {
        var (code, output) = SampleApp.RunWithExitCode("train", "--data", temp.File("nowhere"));
        Assert.Equal(1, code);
        Assert.Contains("error: Data folder", output);
        Assert.Contains("does not exist", output);
        Assert.DoesNotContain("   at ", output);

        File.WriteAllBytes(temp.File("train-images-idx3-ubyte"), []);
        var (missingCode, missing) = SampleApp.RunWithExitCode("train", "--data", temp.Path);
        Assert.Equal(1, missingCode);
        Assert.Contains("lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte", missing);

        // Well-formed IDX files with zero images: named as such, not a crash deeper down.
        WriteIdx("train-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]);
        WriteIdx("train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 0]);
        WriteIdx("t10k-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]);
        WriteIdx("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 0]);
        var (emptyCode, empty) = SampleApp.RunWithExitCode("train", "--data", temp.Path);
        Assert.Equal(1, emptyCode);   // bad data, not a bad command line: one line naming the file, no usage text
        Assert.Contains($"error: {temp.File("train-images-idx3-ubyte")} holds no images (its header says 0)", empty);
        Assert.DoesNotContain("usage:", empty);

        var (usageCode, usage) = SampleApp.RunWithExitCode("train", "--epochz", "3");
        Assert.Equal(2, usageCode);
        Assert.Contains("Unknown argument '--epochz'", usage);
    }

    private void WriteIdx(string name, byte[] bytes) => File.WriteAllBytes(temp.File(name), bytes);
}
