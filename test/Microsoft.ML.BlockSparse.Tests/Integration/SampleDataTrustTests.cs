using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The sample app meets bad data before it trains: a clear <c>error:</c> line naming the file and what was
/// expected, exit code 1, no training and no model written.
/// </summary>
[Trait("Category", "Integration")]
public class SampleDataTrustTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1" };

    private static byte[] TwoClasses(int rows) => Enumerable.Range(0, rows).Select(i => (byte)(i % 2)).ToArray();

    [Fact]
    public void TestLabelsTheTrainingSetNeverHadAreRefusedWithTheirCount()
    {
        TrustFiles.IdxSet(temp.Path, TwoClasses(20), (4, 4), [0, 1, 0, 200, 1], (4, 4));
        var model = temp.File("m.zip");

        var (code, output) = SampleApp.RunWithExitCode(OneThread, "train", "--data", temp.Path, "--epochs", "1", "--hidden", "8", "--model", model);

        Assert.Equal(1, code);
        Assert.Contains($"error: 1 of 5 test rows in {temp.File("t10k-labels-idx1-ubyte")} have labels the training rows never have (200)", output);
        Assert.DoesNotContain("Test metrics", output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(File.Exists(model));
    }

    [Theory]
    [InlineData(14, 56)]   // the same 784 pixels in another shape
    [InlineData(20, 20)]
    public void TestImagesOfAnotherSizeAreRefusedBeforeTraining(int rows, int columns)
    {
        TrustFiles.IdxSet(temp.Path, TwoClasses(20), (28, 28), TwoClasses(4), (rows, columns));

        var (code, output) = SampleApp.RunWithExitCode(OneThread, "train", "--data", temp.Path, "--epochs", "1", "--architecture", "lenet5", "--model", temp.File("m.zip"));

        Assert.Equal(1, code);
        Assert.Contains($"error: {temp.File("t10k-images-idx3-ubyte")} holds images of {rows}x{columns} (rows x columns), but the training images in "
            + $"{temp.File("train-images-idx3-ubyte")} are 28x28", output);
        Assert.DoesNotContain("epoch", output);
        Assert.False(File.Exists(temp.File("m.zip")));
    }

    [Fact]
    public void TruncatedOrHugeImagesAreRefusedByTrainAndPredictImage()
    {
        var data = temp.File("images");
        for (int i = 0; i < 5; i++)
        {
            TrustFiles.Png(Path.Combine(data, "a", $"{i}.png"), 8, 8, seed: i);
            TrustFiles.Png(Path.Combine(data, "b", $"{i}.png"), 8, 8, seed: 10 + i);
        }
        var truncated = Path.Combine(data, "a", "5.png");
        TrustFiles.Png(truncated, 8, 8, seed: 5);
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..60]);
        var model = temp.File("m.zip");
        string[] train = ["train", "--data", data, "--epochs", "1", "--hidden", "8", "--model", model];

        var (code, output) = SampleApp.RunWithExitCode(OneThread, train);
        Assert.Equal(1, code);
        Assert.Contains($"error: Image file '{truncated}' is truncated: the PNG has no IEND chunk at its end (60 bytes)", output);
        Assert.DoesNotContain("epoch", output);

        // Moved out of the folder, the same file is refused at prediction time, as is one declaring a huge size.
        var outside = temp.File("cut.png");
        File.Move(truncated, outside);
        var (trained, trainOutput) = SampleApp.RunWithExitCode(OneThread, train);
        Assert.True(trained == 0, trainOutput);
        var (predictCode, predicted) = SampleApp.RunWithExitCode("predict-image", "--model", model, Path.Combine(data, "a", "0.png"), outside);
        Assert.Equal(1, predictCode);
        Assert.Contains($"error: Image file '{outside}' is truncated", predicted);

        var huge = temp.File("huge.png");
        File.WriteAllBytes(huge, TrustFiles.PngHeaderOnly(20000, 20000));
        var (hugeCode, hugeOutput) = SampleApp.RunWithExitCode("predict-image", "--model", model, huge);
        Assert.Equal(1, hugeCode);
        Assert.Contains($"error: Image file '{huge}' is 20000x20000 pixels (400,000,000)", hugeOutput);
    }
}
