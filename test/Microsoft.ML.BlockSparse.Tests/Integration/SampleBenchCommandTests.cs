using System.Text.Json;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The <c>bench</c> command end to end on a tiny slice, one epoch.</summary>
[Trait("Category", "Integration")]
public class SampleBenchCommandTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void BenchRunsEveryMethodAndWritesTableJsonAndChart()
    {
        var output = SampleApp.Run("bench", "--data", mnist.Folder, "--train-rows", "1000", "--test-rows", "300",
            "--epochs", "1", "--out", temp.Path, "--lenet");

        Assert.Contains("| method | test accuracy | block sparsity | trainable params | training FLOPs (run) |", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "bench.json")));
        var methods = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["Dense", "GroupLasso", "Kronecker 4x112,2x60,auto r2", "Kronecker λ2 search r2, budget 10 %", "Dense LeNet5", "Kronecker LeNet5 r4",
                "Dense 2048-2048", "Kronecker 2048-2048 32x28,32x64,auto r2"],
            methods.Select(m => m.GetProperty("method").GetString()));
        string[] fields =
        [
            "testAccuracy", "blockSparsity", "trainableParameters", "trainingFlops", "secondsPerEpoch", "peakWorkingSetBytes",
            "modelBytes", "inferenceFlopsPerExample", "transformRowsPerSecond", "predictionEngineRowsPerSecond", "chosenBlockShapes",
        ];
        foreach (var method in methods)
        {
            foreach (var field in fields)
                Assert.True(method.TryGetProperty(field, out _), $"{method.GetProperty("method")} lacks '{field}'");
            Assert.True(method.GetProperty("transformRowsPerSecond").GetDouble() > 0);
            Assert.True(method.GetProperty("peakWorkingSetBytes").GetInt64() > 0);
        }

        long denseFlops = methods[0].GetProperty("trainingFlops").GetInt64();
        Assert.Equal(denseFlops, methods[1].GetProperty("trainingFlops").GetInt64());   // group lasso trains the dense layers
        Assert.True(methods[2].GetProperty("trainingFlops").GetInt64() < denseFlops / 10);
        // The factored rows' ONNX models skip their zero blocks: fewer inference FLOPs per row than dense.
        long denseInference = methods[0].GetProperty("inferenceFlopsPerExample").GetInt64();
        Assert.True(methods[2].GetProperty("inferenceFlopsPerExample").GetInt64() < denseInference / 10);
        Assert.Matches(@"\| [0-9,]+ \(1\.00×\) \|", output);   // rows/s against dense's, dense's own row at 1.00×
        // GroupLasso is pruned to the fixed Kronecker run's block sparsity.
        Assert.Equal(methods[2].GetProperty("blockSparsity").GetDouble(), methods[1].GetProperty("blockSparsity").GetDouble(), 2);

        // The LeNet5 rows are against the dense LeNet5: 61,706 parameters, the Kronecker one far fewer and cheaper to train.
        Assert.Equal(["Mlp", "Mlp", "Mlp", "Mlp", "LeNet5", "LeNet5", "Mlp 2048-2048", "Mlp 2048-2048"], methods.Select(m => m.GetProperty("architecture").GetString()));
        Assert.Equal(61_706, methods[4].GetProperty("trainableParameters").GetInt64());
        Assert.Equal(61_706, methods[5].GetProperty("denseParameters").GetInt64());
        Assert.True(methods[5].GetProperty("trainableParameters").GetInt64() < 61_706 / 10);
        Assert.True(methods[5].GetProperty("trainingFlops").GetInt64() < methods[4].GetProperty("trainingFlops").GetInt64());
        Assert.Contains("| Dense LeNet5 |", output);

        // The wide rows: two hidden layers of 2048; the Kronecker one trains at under a tenth of the dense FLOPs.
        Assert.Equal(784L * 2048 + 2048 + 2048L * 2048 + 2048 + 2048L * 10 + 10, methods[6].GetProperty("trainableParameters").GetInt64());
        Assert.True(methods[7].GetProperty("trainingFlops").GetInt64() < methods[6].GetProperty("trainingFlops").GetInt64() / 10);

        var png = File.ReadAllBytes(Path.Combine(temp.Path, "bench.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4));
        Assert.True(File.Exists(Path.Combine(temp.Path, "kronecker.zip")));
    }

    [Fact]
    public void LayersBenchTimesEveryLayerInBothLayoutsAgainstItsDenseLayer()
    {
        var output = SampleApp.Run("bench", "--layers", "--layer-repeats", "1", "--out", temp.Path);

        Assert.Contains("| layer | in → out | block | rank | FLOPs of dense | batch-major ms | one column per row ms |", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "layers.json")));
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(12, rows.Count);
        Assert.Contains(rows, r => r.GetProperty("block").GetString() == "10x56" && r.GetProperty("rank").GetInt32() == 4);
        foreach (var row in rows)
        {
            Assert.True(row.GetProperty("rowsMs").GetDouble() > 0 && row.GetProperty("columnsMs").GetDouble() > 0);
            if (row.GetProperty("block").GetString() == "dense")
                Assert.Equal(1.0, row.GetProperty("columnsOverDense").GetDouble(), 6);
        }
        Assert.True(File.Exists(Path.Combine(temp.Path, "layers.md")));
    }

    [Fact]
    public void BenchRefusesTwoModesAtOnceByName()
    {
        var (code, output) = SampleApp.RunWithExitCode("bench", "--layers", "--phases", "--out", temp.Path);

        Assert.Equal(2, code);
        Assert.Contains("bench runs one mode at a time; got --layers and --phases.", output);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void PhasesBenchTimesEveryPhaseOfTheThreeNetworks()
    {
        var output = SampleApp.Run("bench", "--phases", "--data", mnist.Folder, "--train-rows", "1000", "--phase-rounds", "1", "--out", temp.Path);

        var table = File.ReadAllText(Path.Combine(temp.Path, "phases.md"));
        Assert.Contains("| phase of one step | dense, ms | default Kronecker, ms | balanced 15x28,10x15 (before issue 13), ms |", table);
        foreach (var phase in new[] { "batch gather", "forward", "loss", "zero grads + backward", "Adam step", "λ1 step + gate masks", "accuracy count" })
            Assert.Matches($@"\| {System.Text.RegularExpressions.Regex.Escape(phase)} \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|", table);
        Assert.Matches(@"\| \*\*step\*\* \(median of the rounds' sums\) \| \*\*[0-9.]+\*\* \| \*\*[0-9.]+ \([0-9.]+×\)\*\* \|", table);
        Assert.Contains(table, output);
    }

    [Fact]
    public void VitBenchRunsDenseFixedAndSearchRowsAndItsFixedConfigurationIsWithinTheBudget()
    {
        var output = SampleApp.Run("bench", "--vit", "--data", mnist.Folder, "--train-rows", "600", "--test-rows", "200",
            "--epochs", "1", "--out", temp.Path);

        Assert.Contains("| method | validation accuracy | test accuracy |", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "vit.json")));
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.StartsWith("Dense ViT", rows[0].GetProperty("method").GetString());
        Assert.StartsWith("Kronecker ViT r4 fixed blocks", rows[1].GetProperty("method").GetString());
        Assert.Contains("λ2 search", rows[2].GetProperty("method").GetString());
        // The issue's budget for the fixed configuration, on the default width-128 ViT: at most 10 % of the dense
        // parameters and 25 % of its training FLOPs.
        long denseParameters = rows[0].GetProperty("trainableParameters").GetInt64();
        long denseFlops = rows[0].GetProperty("trainingFlops").GetInt64();
        Assert.True(rows[1].GetProperty("trainableParameters").GetInt64() <= denseParameters / 10);
        Assert.True(rows[1].GetProperty("trainingFlops").GetInt64() <= denseFlops / 4);
        foreach (var file in new[] { "vit-dense.zip", "vit-kronecker.zip", "vit-kronecker-search.zip" })
            Assert.True(File.Exists(Path.Combine(temp.Path, file)), file);
    }
}
