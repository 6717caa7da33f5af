using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The README's main job, <c>train</c>, end to end as a user runs it (small slice, 2 epochs).</summary>
[Trait("Category", "Integration")]
public class SampleTrainCommandTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TrainPrintsMetricsAndReportAndWritesModelAndJson()
    {
        var model = temp.File("m.zip");
        var report = temp.File("r.json");
        File.WriteAllText(model, "an older model");
        File.WriteAllText(report, "an older report");

        var output = SampleApp.Run("train", "--data", mnist.Folder, "--train-rows", "3000", "--test-rows", "500",
            "--epochs", "2", "--hidden", "100", "--model", model, "--report", report);

        Assert.Contains("epoch   2/2", output);
        Assert.Contains("micro accuracy", output);
        Assert.Contains("zero blocks", output);
        Assert.Contains($"Replaced the existing file {model}", output);  // never silently
        Assert.Contains($"Replaced the existing file {report}", output);
        Assert.False(File.Exists(model + ".partial"));
        Assert.False(File.Exists(report + ".partial"));

        using var json = JsonDocument.Parse(File.ReadAllText(report));
        string[] keys =
        [
            "microAccuracy", "macroAccuracy", "logLoss", "trainableParameters", "denseParameters",
            "trainingFlopsPerExample", "denseTrainingFlopsPerExample", "inferenceFlopsPerExample",
            "denseInferenceFlopsPerExample", "blockSparsity", "secondsPerEpoch", "modelBytes", "layers",
        ];
        foreach (var key in keys)
            Assert.True(json.RootElement.TryGetProperty(key, out _), $"report lacks '{key}'");
        Assert.Equal(new FileInfo(model).Length, json.RootElement.GetProperty("modelBytes").GetInt64());
        Assert.Equal(2, json.RootElement.GetProperty("layers").GetArrayLength());
        Assert.True(json.RootElement.GetProperty("microAccuracy").GetDouble() > 0.5);
        Assert.Equal(784 * 100 + 100 + 100 * 10 + 10, json.RootElement.GetProperty("denseParameters").GetInt64());
    }

    // On this two-core machine, shared with other jobs, libtorch's OpenMP threads spin waiting for each
    // other and a small epoch takes 10 to 30 times longer; one thread keeps the test at seconds.
    private static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1" };

    [Fact]
    public void CtrlCStopsAtTheNextBatchAndResumeFinishesTheRun()
    {
        var checkpoints = temp.File("checkpoints");
        var model = temp.File("m.zip");
        string[] train = ["train", "--data", mnist.Folder, "--train-rows", "1000", "--test-rows", "200", "--epochs", "50",
            "--hidden", "32", "--validation-fraction", "0.1", "--checkpoint", checkpoints, "--model", model];

        // The app waits after epoch 1 until the signal arrives, so the run cannot finish first on a busy machine.
        var waitForSignal = new Dictionary<string, string>(OneThread) { ["BLOCKSPARSE_WAIT_FOR_CTRL_C_AFTER_EPOCH"] = "1" };
        var (code, interrupted) = SampleApp.RunAndInterrupt("epoch   1/50", waitForSignal, train);

        Assert.Equal(130, code);
        Assert.Contains("Cancelling at the next batch", interrupted);
        Assert.Matches($@"Training cancelled\. The last checkpoint is epoch-\d{{4}}\.bscheckpoint in {Regex.Escape(checkpoints)}; run the same command with --resume", interrupted);
        Assert.DoesNotContain("   at ", interrupted);
        Assert.False(File.Exists(model));
        var kept = Directory.GetFiles(checkpoints).Select(Path.GetFileName).ToList();
        Assert.InRange(kept.Count, 1, 2);
        Assert.All(kept, name => Assert.Matches(@"^epoch-\d{4}\.bscheckpoint$", name));

        var (resumedCode, resumed) = SampleApp.RunWithExitCode(OneThread, [.. train, "--resume"]);
        Assert.True(resumedCode == 0, resumed);
        Assert.Contains($"Resuming from the newest checkpoint in {checkpoints}", resumed);
        Assert.DoesNotContain("epoch   1/50", resumed);
        Assert.Contains("epoch  50/50", resumed);
        Assert.Contains("val acc", resumed);
        Assert.True(File.Exists(model));

        var (usage, resumeAlone) = SampleApp.RunWithExitCode("train", "--resume");
        Assert.Equal(2, usage);
        Assert.Contains("--resume continues from the --checkpoint DIR; give --checkpoint too", resumeAlone);
    }
}
