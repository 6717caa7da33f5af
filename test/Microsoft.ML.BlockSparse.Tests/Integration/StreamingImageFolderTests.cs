using Microsoft.ML.BlockSparse.Data;
using Samples;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Streaming from an image folder: the images are decoded by ML.NET's lazy image transforms as each epoch
/// reads them, never copied into memory, and the model learns; the same seed gives the same model.
/// </summary>
[Trait("Category", "Integration")]
public class StreamingImageFolderTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void StreamedImageFolderTrainsToAnAccuracyAndRepeatsForTheSameSeed()
    {
        ImageExport.Write(mnist.Train.Take(2000).ToList(), 28, 28, temp.Path);
        var ml = new MLContext(1);
        // Split and shuffled by ImageFolder (the listing itself is sorted by class, which a small buffer would not mix).
        var (train, test) = ImageFolder.LoadSplit(ml, temp.Path, testFraction: 0.2, seed: 1);
        BlockSparseTrainer.Options Options() => new()
        {
            HiddenLayers = [100],
            Epochs = 6,
            BatchSize = 32,
            Seed = 1,
            Device = ComputeDevice.Cpu,
            DataCaching = DataCaching.Stream,
            ShuffleBufferRows = 256,
            ValidationFraction = 0.1,
        };
        byte[] Onnx(BlockSparseModel model)
        {
            using var stream = new MemoryStream();
            model.SaveOnnx(stream);
            return stream.ToArray();
        }
        var history = new List<EpochSummary>();
        var options = Options();
        options.Progress = new OnEpoch(history.Add);
        var pipeline = ImagePipelines.Featurize(ml, new ImageShape(1, 28, 28))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"));
        var model = pipeline.Append(ml.MulticlassClassification.Trainers.BlockSparse(options)).Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));

        // About 10 % of the 1600 training images held out by the streamed hash split, the rest trained on.
        Assert.True(metrics.MicroAccuracy >= 0.8, $"micro accuracy {metrics.MicroAccuracy:P2}; {string.Join(" / ", history)}");
        Assert.True(history[^1].ValidationAccuracy >= 0.75, string.Join(" / ", history));
        var again = pipeline.Append(ml.MulticlassClassification.Trainers.BlockSparse(Options())).Fit(train);
        Assert.Equal(Onnx(model.LastTransformer), Onnx(again.LastTransformer));
    }
}
