using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Samples.Bench;

/// <summary>
/// <c>bench --layers</c>: forward + backward of single layers the README discusses (the defaults' layers with their
/// automatic and their former balanced block shapes, the bench's 5 % configuration, the wide row), dense against
/// factored, each in both layouts: batch-major (<c>forward</c>, as a Vision Transformer's token layers run) and one
/// column per row (<see cref="IBlockSparseLayer.ForwardColumns"/>, as a network's linear stack runs). One thread,
/// 128 rows, the upstream gradient a fixed random tensor (a sum's gradient would be a broadcast view, which some
/// kernels take a slow path for), the input's gradient included for every layer but a network's first. The layers
/// of one case are interleaved sample by sample, so load from elsewhere falls on all of them alike.
/// </summary>
internal static class LayerBench
{
    public const int Batch = 128;

    /// <summary>One layer configuration; <see cref="Block"/> null is the dense layer.</summary>
    public sealed record Case(string Name, int In, int Out, BlockShape? Block, int Rank, bool InputGradient);

    /// <summary>The cases, grouped: each group shares its sizes and is timed interleaved.</summary>
    public static readonly IReadOnlyList<Case[]> Groups =
    [
        [
            new("defaults' first layer, dense", 784, 300, null, 0, false),
            new("defaults' first layer, balanced (before issue 13)", 784, 300, new BlockShape(15, 28), 4, false),
            new("defaults' first layer, automatic", 784, 300, new BlockShape(10, 56), 4, false),
            new("bench's 5 % first layer", 784, 300, new BlockShape(4, 112), 2, false),
        ],
        [
            new("defaults' second layer, dense", 300, 100, null, 0, true),
            new("defaults' second layer, balanced (before issue 13)", 300, 100, new BlockShape(10, 15), 4, true),
            new("defaults' second layer, automatic", 300, 100, new BlockShape(5, 50), 4, true),
            new("bench's 5 % second layer", 300, 100, new BlockShape(2, 60), 2, true),
        ],
        [
            new("wide row's first layer, dense", 784, 2048, null, 0, false),
            new("wide row's first layer", 784, 2048, new BlockShape(32, 28), 2, false),
        ],
        [
            new("wide row's second layer, dense", 2048, 2048, null, 0, true),
            new("wide row's second layer", 2048, 2048, new BlockShape(32, 64), 2, true),
        ],
    ];

    public static int Run(CommandLine cl, string outFolder)
    {
        int repeats = cl.Int("--layer-repeats", min: 1) ?? 9;
        bool tuned = NativeAllocator.Tune();
        Directory.CreateDirectory(outFolder);
        int allThreads = torch.get_num_threads();
        torch.set_num_threads(1);
        using var flush = DenormalFlush.Begin();
        Console.WriteLine($"Layers: forward + backward of one layer, {Batch} rows, 1 thread, {repeats} interleaved samples per layer and layout; "
            + $"malloc tuning {(tuned ? "on" : "not applicable here")}");
        var clock = Stopwatch.StartNew();
        var results = new List<LayerResult>();
        try
        {
            foreach (var group in Groups)
            {
                var measured = Measure(group, repeats).ToList();
                results.AddRange(measured);
                foreach (var r in measured)
                    Console.WriteLine(Row(r));
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

        var jsonPath = Path.Combine(outFolder, "layers.json");
        BenchFiles.WriteJson(jsonPath, results);
        var mdPath = Path.Combine(outFolder, "layers.md");
        OutputFile.Write(mdPath, temporary => File.WriteAllText(temporary, table));
        Console.WriteLine($"Wrote {jsonPath} and {mdPath}");
        return 0;
    }

    private static IEnumerable<LayerResult> Measure(Case[] group, int repeats)
    {
        using var generator = new Generator(1);
        var subjects = new List<Subject>();
        try
        {
            foreach (var c in group)
            {
                nn.Module<Tensor, Tensor> layer = c.Block is { } block
                    ? new KroneckerLinear("factored", c.In, c.Out, block, c.Rank, generator)
                    : new DenseLinear("dense", c.In, c.Out, "bench", generator);
                subjects.Add(new Subject(c, layer, columns: false));
                subjects.Add(new Subject(c, layer, columns: true));
            }
            InterleavedTiming.Run(subjects, s => s.Step(), (s, steps) => s.Sample(steps), repeats, maxSteps: 500);

            double denseColumns = BenchFiles.Median(subjects.Single(s => s.Case.Block is null && s.Columns).Milliseconds);
            foreach (var pair in subjects.Chunk(2))
            {
                var (rows, columns) = (pair[0], pair[1]);
                var c = rows.Case;
                yield return new LayerResult
                {
                    Layer = c.Name,
                    In = c.In,
                    Out = c.Out,
                    Block = c.Block?.ToString() ?? "dense",
                    Rank = c.Rank,
                    InputGradient = c.InputGradient,
                    FlopRatio = c.Block is { } b ? (double)LayerCost.FactoredForwardFlops(c.In, c.Out, b, c.Rank) / LayerCost.DenseForwardFlops(c.In, c.Out) : 1,
                    RowsMs = BenchFiles.Median(rows.Milliseconds),
                    ColumnsMs = BenchFiles.Median(columns.Milliseconds),
                    RowsMinMs = rows.Milliseconds.Min(),
                    ColumnsMinMs = columns.Milliseconds.Min(),
                    ColumnsOverDense = BenchFiles.Median(columns.Milliseconds) / denseColumns,
                    Repeats = repeats,
                    Batch = Batch,
                };
            }
        }
        finally
        {
            foreach (var s in subjects.Where(s => s.Columns))
                s.Dispose();
            foreach (var s in subjects.Where(s => !s.Columns))
                s.Dispose();
        }
    }


    private static string Row(LayerResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Layer} | {r.In} → {r.Out} | {r.Block} | {(r.Rank > 0 ? r.Rank.ToString(CultureInfo.InvariantCulture) : "-")} | {r.FlopRatio:F2} | {r.RowsMs:F2} | {r.ColumnsMs:F2} | {r.ColumnsMs / r.RowsMs:F2} | {r.ColumnsOverDense:F2} |");

    public static string Table(IReadOnlyList<LayerResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| layer | in → out | block | rank | FLOPs of dense | batch-major ms | one column per row ms | columns / batch-major | columns, of dense |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
            text.AppendLine(Row(r));
        return text.ToString();
    }


    /// <summary>One layer in one layout, with a fixed input and upstream gradient.</summary>
    private sealed class Subject : IDisposable
    {
        private readonly nn.Module<Tensor, Tensor> module;
        private readonly Tensor input, upstream;

        public Subject(Case c, nn.Module<Tensor, Tensor> layer, bool columns)
        {
            Case = c;
            Columns = columns;
            module = layer;
            input = (columns ? rand(c.In, Batch) : rand(Batch, c.In)).requires_grad_(c.InputGradient);
            upstream = columns ? randn(c.Out, Batch) : randn(Batch, c.Out);
            layer.train();
        }

        public Case Case { get; }
        public bool Columns { get; }
        public List<double> Milliseconds { get; } = [];

        public void Step()
        {
            using var scope = NewDisposeScope();
            foreach (var p in module.parameters())
                p.grad?.fill_(Scalars.Zero);
            input.grad?.fill_(Scalars.Zero);
            var output = Columns ? ((IBlockSparseLayer)module).ForwardColumns(input) : module.call(input);
            output.backward([upstream]);
        }

        public void Sample(int steps)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
                Step();
            Milliseconds.Add(clock.Elapsed.TotalMilliseconds / steps);
        }

        // The two layouts share one module: the rows subject disposes it, after the columns subject.
        public void Dispose()
        {
            if (!Columns)
                module.Dispose();
            input.Dispose();
            upstream.Dispose();
        }
    }
}

/// <summary>One row of <c>layers.json</c>.</summary>
internal sealed class LayerResult
{
    public string Layer { get; init; } = "";
    public int In { get; init; }
    public int Out { get; init; }
    public string Block { get; init; } = "";
    public int Rank { get; init; }
    public bool InputGradient { get; init; }
    /// <summary>Factored forward FLOPs over dense (LayerCost); 1 for the dense layer.</summary>
    public double FlopRatio { get; init; }
    public double RowsMs { get; init; }
    public double ColumnsMs { get; init; }
    public double RowsMinMs { get; init; }
    public double ColumnsMinMs { get; init; }
    /// <summary>One column per row: this layer's median over the dense layer's of the same group.</summary>
    public double ColumnsOverDense { get; init; }
    public int Repeats { get; init; }
    public int Batch { get; init; }
}
