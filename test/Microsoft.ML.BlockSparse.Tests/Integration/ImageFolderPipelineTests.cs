using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.MLNet;
using Microsoft.ML.Data;
using Samples;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// MNIST written as PNG files in the Model Builder layout (by the sample's exporter), read back through
/// ImageFolder and ImagePipelines.Featurize: the same pixels as the IDX path, training, and clear errors.
/// </summary>
[Trait("Category", "Integration")]
public class ImageFolderPipelineTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private static readonly ImageShape Mnist = new(1, 28, 28);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void ExportedMnistFolderTrainsAndEvaluates()
    {
        ImageExport.Write(mnist.Train.Take(3000).ToList(), 28, 28, temp.File("train"));
        ImageExport.Write(mnist.Test.Take(500).ToList(), 28, 28, temp.File("test"));
        var ml = new MLContext(1);
        var train = ImageFolder.Load(ml, temp.File("train"));
        var test = ImageFolder.Load(ml, temp.File("test"));
        // ImagePipelineTests trains the default network on image files; this one checks the folder path, so a small network will do.
        var options = MnistSlice.QuickOptions(epochs: 8);
        options.FeatureColumnName = "Features";
        options.HiddenLayers = [100];

        var pipeline = ImagePipelines.Featurize(ml, Mnist)
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options));
        var model = pipeline.Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));

        // Reaches 87.6 % on this code; see MnistSlice.AccuracyMargin.
        Assert.True(metrics.MicroAccuracy >= 0.82, $"micro accuracy {metrics.MicroAccuracy:P2} on 500 test images");
        Assert.Equal(784, model.LastTransformer.FeatureLength);
    }

    [Fact]
    public void FeaturizedPixelsEqualTheIdxPixels()
    {
        var digits = mnist.Train.Take(40).ToList();
        ImageExport.Write(digits, 28, 28, temp.Path);
        var ml = new MLContext(1);
        // The exporter numbers files in IDX order; listing sorts by class, so match by file name.
        var rows = ImageFolder.List(temp.Path);
        var view = ImagePipelines.Featurize(ml, Mnist).Fit(ImageFolder.Load(ml, temp.Path)).Transform(ImageFolder.Load(ml, temp.Path));

        Assert.Equal(Mnist, ImageShapeCheck.FromColumnType(view.Schema["Features"].Type));
        Assert.Null(view.Schema.GetColumnOrNull("Features.Image"));   // the decoded image is dropped
        var features = view.GetColumn<float[]>("Features").ToList();
        for (int i = 0; i < rows.Count; i++)
        {
            var digit = digits[int.Parse(Path.GetFileNameWithoutExtension(rows[i].ImagePath), System.Globalization.CultureInfo.InvariantCulture) - 1];
            Assert.Equal(digit.Label, rows[i].Label);
            // value / 255 on both paths (ExtractPixels multiplies by 1/255f: the last bit may differ).
            Assert.Equal(784, features[i].Length);
            Assert.True(digit.Pixels.Zip(features[i]).All(p => Math.Abs(p.First - p.Second) < 1e-6), $"image {rows[i].ImagePath} differs from its IDX pixels");
        }

        // RGB: three planes, each the grey image.
        var rgb = ImagePipelines.Featurize(ml, new ImageShape(3, 28, 28)).Fit(ImageFolder.Load(ml, temp.Path)).Transform(ImageFolder.Load(ml, temp.Path));
        var first = rgb.GetColumn<float[]>("Features").First();
        Assert.Equal(3 * 784, first.Length);
        Assert.Equal(features[0], first[..784]);
        Assert.Equal(features[0], first[784..(2 * 784)]);
        Assert.Equal(features[0], first[(2 * 784)..]);
    }

    [Fact]
    public void ImagesOfAnotherSizeAreResizedAndAShapeThatDisagreesIsNamed()
    {
        // 40x40 files: the featurisation resizes them to the shape it was given.
        var ml = new MLContext(1);
        var rows = WriteLargeDigits(mnist.Train.Take(60).ToList(), 40);
        var data = ml.Data.LoadFromEnumerable(rows);
        var featurized = ImagePipelines.Featurize(ml, Mnist).Fit(data).Transform(data);
        Assert.Equal(784, featurized.GetColumn<float[]>("Features").First().Length);

        // The trainer is told 32x32 images but gets 28x28 pixels: the error names both.
        var options = new BlockSparseTrainer.Options { Epochs = 1, ImageShape = new ImageShape(1, 32, 32) };
        var pipeline = ImagePipelines.Featurize(ml, Mnist)
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options));
        var wrongLength = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Fit(data));
        Assert.Contains("ImageShape is 1x32x32 (channels x height x width), 1024 values per image", wrongLength.Message);
        Assert.Contains("'Features' holds 784 values per row", wrongLength.Message);

        // Same length, other shape than the extraction made: named too.
        options.ImageShape = new ImageShape(1, 14, 56);
        var wrongShape = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Fit(data));
        Assert.Contains("ImageShape is 1x14x56", wrongShape.Message);
        Assert.Contains("pixel extraction of shape 1x28x28", wrongShape.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => ImagePipelines.Featurize(ml, new ImageShape(2, 28, 28)));
    }

    [Fact]
    public void SampleExportsTrainsAndPredictsImagesAndNamesABadOne()
    {
        var png = temp.File("png");
        var export = SampleApp.Run("export-images", "--data", mnist.Folder, "--out", png, "--rows", "1500");
        Assert.Contains("train: 1500 images of 28x28 in 10 class folders", export);
        Assert.True(File.Exists(Path.Combine(png, "test", "7", "00001.png")));   // the first MNIST test digit is a 7

        var (refusedCode, refused) = SampleApp.RunWithExitCode("export-images", "--data", mnist.Folder, "--out", png, "--rows", "10");
        Assert.Equal(2, refusedCode);
        Assert.Contains("is not empty", refused);
        Assert.Equal(1500, Directory.EnumerateFiles(Path.Combine(png, "train"), "*.png", SearchOption.AllDirectories).Count());

        var model = temp.File("digits.zip");
        var output = SampleApp.Run("train", "--data", png, "--epochs", "3", "--hidden", "100", "--model", model);
        Assert.Contains("split by its train/ and test/ folders", output);
        Assert.Contains("1500 training rows, 1500 test rows, 784 features (image 1x28x28", output);
        Assert.Contains("micro accuracy", output);
        Assert.Contains("zero blocks", output);

        var images = new[] { "7/00001.png", "2/00002.png", "1/00003.png", "0/00004.png" }.Select(i => Path.Combine(png, "test", i)).ToArray();
        var predictions = SampleApp.Run(["predict-image", "--model", model, .. images]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(images.Length, predictions.Length);
        int right = 0;
        for (int i = 0; i < images.Length; i++)
        {
            var fields = predictions[i].Split('\t');
            Assert.Equal(images[i], fields[0]);
            Assert.Contains(fields[1], new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" });
            Assert.InRange(double.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), 0.1, 1.0);
            right += fields[1] == Path.GetFileName(Path.GetDirectoryName(images[i])) ? 1 : 0;
        }
        Assert.True(right >= 3, $"{right} of {images.Length} easy test digits right");

        // A file with a PNG signature and garbage: the run stops with the file's name, not a stack trace.
        var bad = Path.Combine(png, "train", "3", "bad.png");
        // A complete PNG header and end with no image data between: passes ImageFileCheck, fails to decode.
        File.WriteAllBytes(bad, TrustFiles.PngHeaderOnly(28, 28));
        var (badCode, badOutput) = SampleApp.RunWithExitCode("train", "--data", png, "--epochs", "1", "--hidden", "100", "--model", temp.File("bad.zip"));
        Assert.Equal(1, badCode);
        Assert.Contains($"Image file '{bad}' cannot be decoded", badOutput);
        Assert.DoesNotContain("   at ", badOutput);
        Assert.False(File.Exists(temp.File("bad.zip")));

        var (predictBadCode, predictBad) = SampleApp.RunWithExitCode("predict-image", "--model", model, bad);
        Assert.Equal(1, predictBadCode);
        Assert.Contains($"Image file '{bad}' cannot be decoded", predictBad);

        var forced = SampleApp.Run("export-images", "--data", mnist.Folder, "--out", png, "--rows", "20", "--force");
        Assert.Contains($"Removed the existing {Path.Combine(png, "train")} (--force)", forced);
        Assert.Equal(20, Directory.EnumerateFiles(Path.Combine(png, "train"), "*.png", SearchOption.AllDirectories).Count());
    }

    private List<ImageFolderRow> WriteLargeDigits(IReadOnlyList<IdxImage> digits, int side)
    {
        var rows = new List<ImageFolderRow>();
        var rgba = new byte[side * side * 4];
        for (int i = 0; i < digits.Count; i++)
        {
            for (int y = 0; y < side; y++)
            {
                for (int x = 0; x < side; x++)
                {
                    byte grey = (byte)Math.Round(digits[i].Pixels[y * 28 / side * 28 + x * 28 / side] * 255);
                    rgba[4 * (y * side + x)] = rgba[4 * (y * side + x) + 1] = rgba[4 * (y * side + x) + 2] = grey;
                    rgba[4 * (y * side + x) + 3] = 255;
                }
            }
            var path = temp.File($"large-{i}.png");
            using (var image = MLImage.CreateFromPixels(side, side, MLPixelFormat.Rgba32, rgba))
                image.Save(path);
            rows.Add(new ImageFolderRow { ImagePath = path, Label = digits[i].Label });
        }
        return rows;
    }
}
