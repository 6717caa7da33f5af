using System.Text.Json;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary><c>bench --scale</c> end to end at tiny widths: the JSON rows, the FLOP ratio's formula, the chart.</summary>
[Trait("Category", "Integration")]
public class SampleScaleBenchTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScaleWritesOneRowPerWidthRankAndThreadCountWithTheFormulasFlopRatio(bool noMallocTuning)
    {
        string[] args = ["bench", "--scale", "--scale-widths", "64,144", "--scale-repeats", "2", "--out", temp.Path];
        var output = SampleApp.Run(noMallocTuning ? [.. args, "--no-malloc-tuning"] : args);

        Assert.Contains("| width | block | rank | threads | FLOP ratio |", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "scale.json")));
        var rows = json.RootElement.EnumerateArray().ToList();
        var threadCounts = rows.Select(r => r.GetProperty("threads").GetInt32()).Distinct().Order().ToList();
        Assert.Equal(1, threadCounts[0]);
        Assert.Equal(2 * 2 * threadCounts.Count, rows.Count);   // widths × ranks × thread counts
        foreach (var row in rows)
        {
            int width = row.GetProperty("width").GetInt32(), rank = row.GetProperty("rank").GetInt32();
            Assert.Contains(width, new[] { 64, 144 });
            Assert.Contains(rank, new[] { 2, 4 });
            // Balanced blocks: 8x8 of 64 (an 8x8 grid), 12x12 of 144 (a 12x12 grid).
            int side = width == 64 ? 8 : 12;
            Assert.Equal($"{side}x{side}", row.GetProperty("block").GetString());
            // Factored over dense training FLOPs: r·q·m·(n + p) / (out·in) = r·(1/p + 1/n).
            Assert.Equal(rank * (1.0 / side + 1.0 / side), row.GetProperty("flopRatio").GetDouble(), 12);
            double dense = row.GetProperty("denseMs").GetDouble(), factored = row.GetProperty("factoredMs").GetDouble();
            Assert.True(dense > 0 && factored > 0);
            Assert.True(row.GetProperty("denseMinMs").GetDouble() <= dense && row.GetProperty("factoredMinMs").GetDouble() <= factored);
            Assert.Equal(factored / dense, row.GetProperty("wallRatio").GetDouble(), 9);
            Assert.True(row.GetProperty("minWallRatio").GetDouble() > 0);
            Assert.True(row.TryGetProperty("denseFaultsPerStep", out _) && row.TryGetProperty("factoredFaultsPerStep", out _));
            if (OperatingSystem.IsLinux())
                Assert.True(row.GetProperty("denseFaultsPerStep").GetDouble() >= 0);
            if (noMallocTuning)
                Assert.False(row.GetProperty("mallocTuned").GetBoolean());
        }
        if (noMallocTuning)
            Assert.Contains("malloc tuning off", output);

        var png = File.ReadAllBytes(Path.Combine(temp.Path, "scale.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4));
        Assert.True(File.Exists(Path.Combine(temp.Path, "scale.md")));
    }
}
