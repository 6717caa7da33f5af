using System.Text.Json;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The README's main job, <c>train</c>, end to end as a user runs it (small slice, 2 epochs).</summary>
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
}
