using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Samples.Bench;

/// <summary>
/// <c>bench --scale</c>: where the factored layer starts to pay. One training step (forward, backward,
/// Adam) of one square layer, <see cref="DenseLinear"/> against <see cref="KroneckerLinear"/> with
/// balanced blocks, at growing widths, ranks and thread counts, in one process; each sample interleaves
/// dense and the factored ranks, so load from elsewhere falls on all of them alike. The layers run one
/// column per row (<see cref="IBlockSparseLayer.ForwardColumns"/>), as a network's linear layers train.
/// </summary>
internal static class ScaleBench
{
    public const int Batch = 128;
    public static readonly int[] DefaultWidths = [256, 512, 1024, 2048, 4096, 8192];
    public static readonly int[] Ranks = [2, 4];

    /// <summary>
    /// Timed samples per method: fewer at the largest widths, where one dense step takes up to a second
    /// on one thread and the whole mode should stay within about three minutes on two cores.
    /// </summary>
    public static int DefaultRepeats(int width) => width switch
    {
        <= 1024 => 15,
        <= 2048 => 9,
        <= 4096 => 5,
        _ => 3,
    };

    public static int Run(CommandLine cl, string outFolder)
    {
        var widths = cl.IntList("--scale-widths", min: 4) ?? DefaultWidths;
        int? repeats = cl.Int("--scale-repeats", min: 1);
        bool tune = !cl.Has("--no-malloc-tuning");
        bool tuned = tune && NativeAllocator.Tune();
        Directory.CreateDirectory(outFolder);

        int allThreads = torch.get_num_threads();
        int[] threadCounts = allThreads > 1 ? [1, allThreads] : [1];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scaling: one training step of a square layer, batch {Batch}, widths {string.Join(",", widths)}, ranks {string.Join(",", Ranks)}, threads {string.Join(",", threadCounts)}; "
            + $"malloc tuning {(tuned ? "on" : tune ? "not applicable here" : "off (--no-malloc-tuning)")}"));
        var clock = Stopwatch.StartNew();
        var results = new List<ScaleResult>();
        try
        {
            foreach (int width in widths)
            {
                foreach (int threads in threadCounts)
                {
                    torch.set_num_threads(threads);
                    results.AddRange(Measure(width, threads, repeats ?? DefaultRepeats(width), tuned));
                    foreach (var r in results.TakeLast(Ranks.Length))
                        Console.WriteLine(Row(r));
                }
            }
        }
        finally
        {
            torch.set_num_threads(allThreads);
        }
        Console.WriteLine($"({clock.Elapsed.TotalSeconds:F0} s)");
        Console.WriteLine();
        var table = Table(results);
        Console.Write(table);

        var jsonPath = Path.Combine(outFolder, "scale.json");
        BenchFiles.WriteJson(jsonPath, results);
        var tablePath = Path.Combine(outFolder, "scale.md");
        OutputFile.Write(tablePath, temporary => File.WriteAllText(temporary, table));
        var chartPath = Path.Combine(outFolder, "scale.png");
        OutputFile.Write(chartPath, temporary => ScaleChart.Write(results, temporary));
        Console.WriteLine($"Wrote {jsonPath}, {tablePath} and {chartPath}");
        return 0;
    }

    /// <summary>
    /// The block shape with blocks as square as the width allows: <c>m = n</c> the divisor of the width
    /// nearest its square root, so the grid <c>p × q</c> and the block have about equal sides, which
    /// minimises the factored cost <c>r·(1/p + 1/n)</c> of the dense one.
    /// </summary>
    public static BlockShape BalancedBlock(int width)
    {
        int best = 1;
        for (int d = 1; d <= width; d++)
        {
            if (width % d == 0 && Math.Abs(Math.Log(d) - 0.5 * Math.Log(width)) < Math.Abs(Math.Log(best) - 0.5 * Math.Log(width)))
                best = d;
        }
        return new BlockShape(best, best);
    }

    /// <summary>Training FLOPs of the factored layer over the dense one (both 3 × forward, LayerCost).</summary>
    public static double FlopRatio(int width, BlockShape block, int rank)
        => (double)LayerCost.FactoredForwardFlops(width, width, block, rank) / LayerCost.DenseForwardFlops(width, width);

    private static IEnumerable<ScaleResult> Measure(int width, int threads, int repeats, bool tuned)
    {
        using var generator = new Generator(1);
        var block = BalancedBlock(width);
        var subjects = new List<Subject>();
        try
        {
            subjects.Add(new Subject(new DenseLinear("dense", width, width, "bench", generator), width));
            foreach (int rank in Ranks)
                subjects.Add(new Subject(new KroneckerLinear($"rank{rank}", width, width, block, rank, generator), width));

            var steps = InterleavedTiming.Run(subjects, s => s.Step(), (s, n) => s.Sample(n), repeats, maxSteps: 200);

            var dense = subjects[0];
            for (int k = 0; k < Ranks.Length; k++)
            {
                var factored = subjects[k + 1];
                yield return new ScaleResult
                {
                    Width = width,
                    Rank = Ranks[k],
                    Threads = threads,
                    Block = block.ToString(),
                    FlopRatio = FlopRatio(width, block, Ranks[k]),
                    DenseMs = BenchFiles.Median(dense.Milliseconds),
                    FactoredMs = BenchFiles.Median(factored.Milliseconds),
                    DenseMinMs = dense.Milliseconds.Min(),
                    FactoredMinMs = factored.Milliseconds.Min(),
                    WallRatio = BenchFiles.Median(factored.Milliseconds) / BenchFiles.Median(dense.Milliseconds),
                    MinWallRatio = factored.Milliseconds.Min() / dense.Milliseconds.Min(),
                    DenseFaultsPerStep = BenchFiles.Median(dense.Faults),
                    FactoredFaultsPerStep = BenchFiles.Median(factored.Faults),
                    MallocTuned = tuned,
                    Repeats = repeats,
                    StepsPerSample = steps[k + 1],
                    Batch = Batch,
                };
            }
        }
        finally
        {
            foreach (var s in subjects)
                s.Dispose();
        }
    }


    private static string Row(ScaleResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Width} | {r.Block} | {r.Rank} | {r.Threads} | {r.FlopRatio:F3} | {r.WallRatio:F2} ({r.MinWallRatio:F2}) | {r.DenseMs:F2} | {r.FactoredMs:F2} | {r.DenseFaultsPerStep:F0} / {r.FactoredFaultsPerStep:F0} |");

    public static string Table(IReadOnlyList<ScaleResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| width | block | rank | threads | FLOP ratio | wall ratio, median (min) | dense ms / step | factored ms / step | minor faults / step, dense / factored |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.OrderBy(r => r.Threads).ThenBy(r => r.Rank).ThenBy(r => r.Width))
            text.AppendLine(Row(r));
        return text.ToString();
    }


    /// <summary>One layer with its optimiser and a fixed batch: what one timed training step needs.</summary>
    private sealed class Subject : IDisposable
    {
        private readonly nn.Module<Tensor, Tensor> module;
        private readonly IBlockSparseLayer layer;
        private readonly ProximalAdam optimizer;
        private readonly Tensor input, target;   // one column per row: [width, Batch]

        public Subject(nn.Module<Tensor, Tensor> layer, int width)
        {
            module = layer;
            this.layer = (IBlockSparseLayer)layer;
            optimizer = new ProximalAdam(layer.parameters());
            input = randn(width, Batch);
            target = randn(width, Batch);
            layer.train();
        }

        public List<double> Milliseconds { get; } = [];
        public List<double> Faults { get; } = [];

        /// <summary>Forward, backward and an Adam step, as training takes them (without the sparsity hooks).</summary>
        public void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var loss = nn.functional.mse_loss(layer.ForwardColumns(input), target);
            loss.backward();
            optimizer.Step(1e-4);
        }

        public void Sample(int steps)
        {
            long faults = MinorFaults();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
                Step();
            double elapsed = clock.Elapsed.TotalMilliseconds;
            long after = MinorFaults();
            Milliseconds.Add(elapsed / steps);
            Faults.Add(faults < 0 || after < 0 ? -1 : (double)(after - faults) / steps);
        }

        public void Dispose()
        {
            optimizer.Dispose();
            module.Dispose();
            input.Dispose();
            target.Dispose();
        }
    }

    /// <summary>The process's minor page faults so far: field 10 of /proc/self/stat; -1 where there is none.</summary>
    public static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            // Fields after the command name (which may hold spaces, so split after its closing parenthesis) start at field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[10 - 3], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }
}
