using Samples;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The sample's output files: every target is checked before training, and a failed write leaves the
/// user's earlier file and no <c>.partial</c> behind.
/// </summary>
[Trait("Category", "Integration")]
public class OutputTrustTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1" };

    private string[] Train(params string[] more)
        => ["train", "--data", mnist.Folder, "--train-rows", "500", "--test-rows", "100", "--epochs", "2", "--hidden", "16", .. more];

    private (int Code, string Output) Refused(params string[] args)
    {
        var (code, output) = SampleApp.RunWithExitCode(OneThread, args);
        Assert.True(code == 1, output);
        Assert.DoesNotContain("epoch   1/", output);   // refused before training, not after
        Assert.DoesNotContain("   at ", output);
        return (code, output);
    }

    private void NoPartialFiles()
        => Assert.Empty(Directory.EnumerateFiles(temp.Path, "*.partial", SearchOption.AllDirectories));

    [Fact]
    public void EveryTrainTargetIsCheckedBeforeTraining()
    {
        var folder = temp.File("existing-folder");
        Directory.CreateDirectory(folder);
        var aFile = temp.File("a-file");
        File.WriteAllText(aFile, "not a folder");

        var (_, model) = Refused(Train("--model", folder));
        Assert.Contains($"error: --model '{folder}' is a folder; expected a file to write the model to (FILE.zip).", model);

        var (_, report) = Refused(Train("--model", temp.File("m.zip"), "--report", folder));
        Assert.Contains($"error: --report '{folder}' is a folder; expected a file to write the report to (FILE.json).", report);

        var underAFile = Path.Combine(aFile, "sub", "m.zip");
        var (_, parent) = Refused(Train("--model", underAFile));
        Assert.Contains($"error: --model '{underAFile}' cannot be written: '{aFile}' is a file, so the folder cannot be created there.", parent);

        var (_, unwritable) = Refused(Train("--model", "/proc/blocksparse-model.zip"));
        Assert.Contains("error: --model '/proc/blocksparse-model.zip' cannot be written: the folder '/proc' does not accept new files (", unwritable);

        var (_, checkpoints) = Refused(Train("--model", temp.File("m.zip"), "--checkpoint", aFile));
        Assert.Contains($"error: --checkpoint '{aFile}' is a file; expected a folder for the checkpoints.", checkpoints);

        var checkpointUnderFile = Path.Combine(aFile, "ckpt");
        var (_, checkpointParent) = Refused(Train("--model", temp.File("m.zip"), "--checkpoint", checkpointUnderFile));
        Assert.Contains($"error: --checkpoint '{checkpointUnderFile}' cannot be written: '{aFile}' is a file, so the folder cannot be created there.", checkpointParent);

        Assert.False(File.Exists(temp.File("m.zip")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        Assert.Equal("not a folder", File.ReadAllText(aFile));
        NoPartialFiles();
    }

    [Fact]
    public void AFailedOutputWriteKeepsTheOldFileAndLeavesNoPartial()
    {
        var path = temp.File("scores.tsv");
        File.WriteAllText(path, "the user's earlier scores");

        // As a full disk would: the writer fails halfway.
        var e = Assert.Throws<IOException>(() => OutputFile.Write(path, temporary =>
        {
            File.WriteAllText(temporary, "half of the ");
            throw new IOException("No space left on device");
        }));
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal("the user's earlier scores", File.ReadAllText(path));
        NoPartialFiles();

        // The rename fails (the target turned into a folder meanwhile): the written temporary goes too.
        var folder = temp.File("now-a-folder");
        Directory.CreateDirectory(folder);
        Assert.ThrowsAny<IOException>(() => OutputFile.Write(folder, temporary => File.WriteAllText(temporary, "scores")));
        NoPartialFiles();
    }

    [Fact]
    public void PredictWritesScoresThroughATemporaryFile()
    {
        var model = temp.File("m.zip");
        var (trained, trainOutput) = SampleApp.RunWithExitCode(OneThread, Train("--model", model));
        Assert.True(trained == 0, trainOutput);
        Assert.True(File.Exists(model));
        var scores = temp.File("scores.tsv");
        File.WriteAllText(scores, "older scores");

        var (code, output) = SampleApp.RunWithExitCode("predict", "--model", model, "--data", mnist.Folder, "--rows", "20", "--scores", scores);
        Assert.True(code == 0, output);
        Assert.Contains($"Replaced the existing file {scores}.", output);   // written as .partial, then renamed
        Assert.Equal(20, File.ReadAllLines(scores).Length);

        // A folder as --scores is refused before scoring, naming it.
        var folder = temp.File("scores-folder");
        Directory.CreateDirectory(folder);
        var (refusedCode, refused) = SampleApp.RunWithExitCode("predict", "--model", model, "--data", mnist.Folder, "--rows", "20", "--scores", folder);
        Assert.Equal(1, refusedCode);
        Assert.Contains($"error: --scores '{folder}' is a folder; expected a file to write the scores to (FILE.tsv).", refused);
        Assert.DoesNotContain("micro accuracy", refused);
        NoPartialFiles();
    }
}
