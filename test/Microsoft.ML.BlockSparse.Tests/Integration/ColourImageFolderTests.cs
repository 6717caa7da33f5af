using Microsoft.ML.BlockSparse.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// RGB images end to end from an image folder (PNG and JPEG files, Model Builder layout): the MLP and LeNet5, whose
/// first factored convolution then reads 3 channels, learn the synthetic colour-and-shape classes of
/// <see cref="ColourShapes"/>, where colour alone or shape alone gets half of the images right.
/// </summary>
[Trait("Category", "Integration")]
public class ColourImageFolderTests : IDisposable
{
    private const int Side = 24;
    private static readonly ImageShape Rgb = new(3, Side, Side);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private (IDataView Train, IDataView Test) Folders(MLContext ml)
    {
        ColourShapes.Write(temp.File("train"), perClass: 60, seed: 1, size: Side);
        ColourShapes.Write(temp.File("test"), perClass: 25, seed: 2, size: Side);
        return (ImageFolder.Load(ml, temp.File("train")), ImageFolder.Load(ml, temp.File("test")));
    }

    // A few hundred images: smaller batches and a larger step than MNIST's defaults.
    private static BlockSparseTrainer.Options Options(int epochs) => new() { Epochs = epochs, BatchSize = 32, LearningRate = 0.01, Seed = 1 };

    [Fact]
    public void MlpLearnsColourAndShapeFromAnRgbImageFolder()
    {
        var ml = new MLContext(1);
        var (train, test) = Folders(ml);
        var options = Options(epochs: 20);
        options.HiddenLayers = [64];
        var model = ImagePipelines.Featurize(ml, Rgb)
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(train);

        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        // Reaches 100 % on this code (a 12-point margin: other CPUs order float sums differently).
        Assert.True(metrics.MicroAccuracy >= 0.88, $"micro accuracy {metrics.MicroAccuracy:P1} on 100 test images");
        Assert.Equal(3 * Side * Side, model.LastTransformer.FeatureLength);
    }

    [Fact]
    public void LeNet5LearnsColourAndShapeWithAFactoredThreeChannelConvolution()
    {
        var ml = new MLContext(1);
        var (train, test) = Folders(ml);
        var options = Options(epochs: 10);
        options.Architecture = NetworkArchitecture.LeNet5;
        var model = ImagePipelines.Featurize(ml, Rgb)
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(train);

        var first = model.LastTransformer.Report.Layers[0];
        Assert.True(first.Factored, first.DenseReason);
        Assert.Equal(3 * Side * Side, first.InFeatures);          // the three colour planes
        Assert.Equal("1x3x5x5", first.BlockShape);                // blocks of 1 output x 3 input channels
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        // Reaches 96 % on this code (a 10-point margin).
        Assert.True(metrics.MicroAccuracy >= 0.86, $"micro accuracy {metrics.MicroAccuracy:P1} on 100 test images");
    }
}
