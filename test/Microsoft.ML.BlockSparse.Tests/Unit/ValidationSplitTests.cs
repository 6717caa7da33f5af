using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// <c>ValidationFraction</c> splits the training rows; a split that leaves a class without training rows is
/// refused, naming the classes and their counts ("Trust, round two").
/// </summary>
public class ValidationSplitTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "";

        [VectorType(4)]
        public float[] Features { get; set; } = new float[4];
    }

    [Fact]
    public void ValidationFractionThatLeavesAClassWithoutTrainingRowsIsRefused()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 20).Select(i => new Row { Label = i % 4 == 0 ? "rare" : "common", Features = [i, 1, 2, 3] });
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var options = new BlockSparseTrainer.Options { HiddenLayers = [4], Epochs = 1, Device = ComputeDevice.Cpu, ValidationFraction = 0.95 };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(data));

        Assert.Equal("ValidationFraction", e.ParamName);
        Assert.Contains("BlockSparseTrainer.Options.ValidationFraction 0.95 holds out 19 of the 20 training rows and leaves no training rows of class", e.Message);
        Assert.Matches(@"class \d \('(rare|common)'\), \d+ rows, all held out", e.Message);
    }

    private sealed class ImageRow
    {
        public string Label { get; set; } = "";

        public float[] Features { get; set; } = new float[784];
    }

    [Fact]
    public void ValidationSetOfAnotherImageShapeIsRefused()
    {
        var ml = new MLContext(1);
        IDataView Images(int height, int width)
        {
            var schema = SchemaDefinition.Create(typeof(ImageRow));
            schema[nameof(ImageRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 1, height, width);
            var rows = Enumerable.Range(0, 10).Select(i => new ImageRow { Label = (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            return ml.Data.LoadFromEnumerable(rows, schema);
        }
        var keys = ml.Transforms.Conversion.MapValueToKey("Label").Fit(Images(28, 28));
        var options = new BlockSparseTrainer.Options
        {
            Architecture = NetworkArchitecture.LeNet5, Epochs = 1, Device = ComputeDevice.Cpu, ValidationSet = keys.Transform(Images(14, 56)),
        };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(keys.Transform(Images(28, 28))));

        Assert.Equal("ValidationSet", e.ParamName);
        Assert.Contains("ValidationSet's feature column 'Features' holds images of 1x14x56 (channels x height x width); the training data's are 1x28x28", e.Message);
    }
}
