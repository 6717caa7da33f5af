using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The trainer after ML.NET's image transforms, on real MNIST digits written as PNG files:
/// LoadImages → ResizeImages → ExtractPixels → MapValueToKey → BlockSparse.
/// </summary>
[Trait("Category", "Integration")]
public class ImagePipelineTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    [Fact]
    public void TrainsOnPixelsExtractedFromImageFiles()
    {
        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(WritePngs(mnist.Train.Take(3000), "train"));
        var test = ml.Data.LoadFromEnumerable(WritePngs(mnist.Test.Take(500), "test"));
        var options = MnistSlice.QuickOptions(epochs: 8);
        options.FeatureColumnName = "Pixels";

        var pipeline = ml.Transforms.LoadImages("Image", temp.Path, nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", 28, 28))   // the files are 56x56
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options));

        var model = pipeline.Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.True(metrics.MicroAccuracy >= 0.80, $"micro accuracy {metrics.MicroAccuracy:P2} on 500 images");
        Assert.Equal(784, model.LastTransformer.FeatureLength);
    }

    // Each digit upscaled 2x (nearest), grey in all channels, as an RGBA PNG.
    private List<ImageRow> WritePngs(IEnumerable<Data.IdxImage> digits, string split)
    {
        var rows = new List<ImageRow>();
        var rgba = new byte[56 * 56 * 4];
        int i = 0;
        foreach (var digit in digits)
        {
            for (int y = 0; y < 56; y++)
            {
                for (int x = 0; x < 56; x++)
                {
                    byte grey = (byte)Math.Round(digit.Pixels[(y / 2) * 28 + x / 2] * 255);
                    int at = (y * 56 + x) * 4;
                    rgba[at] = rgba[at + 1] = rgba[at + 2] = grey;
                    rgba[at + 3] = 255;
                }
            }
            var name = $"{split}-{i++}.png";
            using (var image = MLImage.CreateFromPixels(56, 56, MLPixelFormat.Rgba32, rgba))
                image.Save(temp.File(name));
            rows.Add(new ImageRow { ImagePath = name, Label = digit.Label });
        }
        return rows;
    }
}
