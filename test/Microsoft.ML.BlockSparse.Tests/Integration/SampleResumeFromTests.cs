using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The sample continues from a checkpoint file it is told, as the error about a damaged newest checkpoint says.</summary>
[Trait("Category", "Integration")]
public class SampleResumeFromTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1" };

    [Fact]
    public void ADamagedNewestCheckpointIsSkippedWithResumeFrom()
    {
        var checkpoints = temp.File("checkpoints");
        string[] train = ["train", "--data", mnist.Folder, "--train-rows", "500", "--test-rows", "100", "--epochs", "3", "--hidden", "16",
            "--checkpoint", checkpoints, "--model", temp.File("m.zip")];
        var (code, first) = SampleApp.RunWithExitCode(OneThread, train);
        Assert.True(code == 0, first);
        var newest = Path.Combine(checkpoints, "epoch-0003.bscheckpoint");
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(newest, bytes);

        var before = Path.Combine(checkpoints, "epoch-0002.bscheckpoint");
        var (refusedCode, refused) = SampleApp.RunWithExitCode(OneThread, [.. train, "--resume"]);
        Assert.Equal(1, refusedCode);
        Assert.Contains($"error: Checkpoint '{newest}' is corrupted", refused);
        Assert.Contains($"(in the sample app: --resume-from {before} instead of --resume)", refused);

        var (resumedCode, resumed) = SampleApp.RunWithExitCode(OneThread, [.. train, "--resume-from", before]);
        Assert.True(resumedCode == 0, resumed);
        Assert.Contains($"Resuming from {before}", resumed);
        Assert.DoesNotContain("epoch   2/3", resumed);
        Assert.Contains("epoch   3/3", resumed);
        Assert.Equal(["epoch-0002.bscheckpoint", "epoch-0003.bscheckpoint"], Directory.GetFiles(checkpoints).Select(Path.GetFileName).Order());

        var (both, bothOutput) = SampleApp.RunWithExitCode([.. train, "--resume", "--resume-from", before]);
        Assert.Equal(2, both);
        Assert.Contains("error: --resume and --resume-from both say where to continue from; give one.", bothOutput);
        var (missing, missingOutput) = SampleApp.RunWithExitCode([.. train, "--resume-from", temp.File("nowhere")]);
        Assert.Equal(2, missing);
        Assert.Contains($"error: --resume-from '{temp.File("nowhere")}' is neither a checkpoint file nor a folder of checkpoints.", missingOutput);
    }
}
