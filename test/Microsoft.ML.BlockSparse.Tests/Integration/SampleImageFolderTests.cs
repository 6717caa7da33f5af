using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The sample on a Model Builder folder of colour images (24x24 PNG and JPEG) with bad files in it:
/// <c>train --data FOLDER</c> names the first bad file, <c>--skip-bad-images</c> leaves them out and says which, and
/// <c>predict-image</c> prints the label and top scores of each file.
/// </summary>
[Trait("Category", "Integration")]
public class SampleImageFolderTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TrainsOnAColourFolderSkippingBadFilesAndPredictsImagesWithTopScores()
    {
        var folder = temp.File("shapes");
        var files = ColourShapes.Write(folder, perClass: 60, seed: 5, size: 24);
        var notAnImage = Path.Combine(folder, "blue_square", "notes.jpg");
        File.WriteAllText(notAnImage, "not an image");
        var truncated = Path.Combine(folder, "red_circle", "broken.png");
        var good = File.ReadAllBytes(files.First(f => f.Path.EndsWith(".png", StringComparison.Ordinal)).Path);
        File.WriteAllBytes(truncated, good[..(good.Length / 2)]);
        string[] train = ["train", "--data", folder, "--epochs", "20", "--hidden", "64", "--lr", "0.01", "--batch", "32", "--test-fraction", "0.25"];

        var (code, refused) = SampleApp.RunWithExitCode([.. train, "--model", temp.File("refused.zip")]);
        Assert.Equal(1, code);
        Assert.Contains($"Image file '{notAnImage}' is not a readable image", refused);   // the first bad file, by name
        Assert.DoesNotContain("   at ", refused);
        Assert.False(File.Exists(temp.File("refused.zip")));

        var model = temp.File("shapes.zip");
        var output = SampleApp.Run([.. train, "--skip-bad-images", "--model", model]);
        Assert.Contains("Skipped 2 bad image files (--skip-bad-images):", output);
        Assert.Contains($"Image file '{notAnImage}' is not a readable image", output);
        Assert.Contains($"Image file '{truncated}' is truncated", output);
        // Default shape: the first image's size and, as it is not grey, RGB.
        Assert.Contains("180 training rows, 60 test rows, 1728 features (image 3x24x24", output);
        var accuracy = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"micro accuracy\s+([0-9.]+) %").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        // Reaches 96.67 % on this code; an 11-point margin.
        Assert.True(accuracy >= 85, $"micro accuracy {accuracy} % on 60 test images");

        var images = ColourShapes.Classes.Select(c => files.Last(f => f.Label == c && f.Path.EndsWith(".jpg", StringComparison.Ordinal)).Path).ToArray();
        var lines = SampleApp.Run(["predict-image", "--model", model, .. images]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(images.Length, lines.Length);
        for (int i = 0; i < images.Length; i++)
        {
            var fields = lines[i].Split('\t');
            Assert.Equal(images[i], fields[0]);
            Assert.Contains(fields[1], ColourShapes.Classes);
            Assert.StartsWith("top: " + fields[1] + " ", fields[3]);                    // the best of the top 3 is the label
            Assert.Equal(3, fields[3]["top: ".Length..].Split(", ").Length);
        }
    }
}
