using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Samples.Bench;

/// <summary>
/// <c>bench --phases</c>: where one training step of the default network goes, against the dense network of the same
/// sizes (and the defaults with the balanced block shapes they had before issue 13): the phases of the library's
/// training loop (batch gather, forward, loss, zero grads + backward, Adam, λ1's step and gate masks, the accuracy
/// count) timed one by one over whole epochs of MNIST, 1 thread, denormals flushed as in training. Rounds interleave
/// the networks; each round trains a fresh network for two epochs and keeps the second's per-step means.
/// </summary>
internal static class PhaseBench
{
    public static readonly string[] Phases =
        ["batch gather", "forward", "loss", "zero grads + backward", "Adam step", "λ1 step + gate masks", "accuracy count"];

    public static int Run(CommandLine cl, string dataFolder, string outFolder)
    {
        int rounds = cl.Int("--phase-rounds", min: 1) ?? 5;
        int? rows = cl.Int("--train-rows", min: 128);
        IdxDataset.CheckFolder(dataFolder);
        var images = IdxDataset.Load(dataFolder, train: true, rows);
        var labels = images.Select(i => i.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        using var x = tensor(images.SelectMany(i => i.Pixels).ToArray(), [images.Count, images[0].Pixels.Length]);
        using var y = tensor(images.Select(i => (long)labels.IndexOf(i.Label)).ToArray());

        var networks = new (string Name, BlockSparseTrainer.Options Options)[]
        {
            ("dense", new BlockSparseTrainer.Options { Method = BlockSparseMethod.Dense }),
            ("default Kronecker", new BlockSparseTrainer.Options()),
            ("balanced 15x28,10x15 (before issue 13)", new BlockSparseTrainer.Options { LayerBlockShapes = [new BlockShape(15, 28), new BlockShape(10, 15), null] }),
        };
        NativeAllocator.Tune();
        int allThreads = torch.get_num_threads();
        torch.set_num_threads(1);
        using var flush = DenormalFlush.Begin();
        Console.WriteLine($"Phases of one training step, {images.Count} MNIST rows, 1 thread, {rounds} rounds of two epochs per network (the second timed)");
        var clock = Stopwatch.StartNew();
        var samples = networks.ToDictionary(n => n.Name, _ => new List<double[]>());
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                foreach (var (name, options) in networks)
                    samples[name].Add(TimeSecondEpoch(options, x, y, labels.Count, (ulong)round + 1));
                Console.WriteLine($"round {round + 1}/{rounds}: " + string.Join(", ", networks.Select(n =>
                    string.Create(CultureInfo.InvariantCulture, $"{n.Name} {samples[n.Name][^1].Sum():F2} ms"))));
            }
        }
        finally
        {
            torch.set_num_threads(allThreads);
        }
        Console.WriteLine($"({clock.Elapsed.TotalSeconds:F0} s)");
        Console.WriteLine();
        var table = Table(networks.Select(n => n.Name).ToList(), samples);
        Console.Write(table);
        Directory.CreateDirectory(outFolder);
        var mdPath = Path.Combine(outFolder, "phases.md");
        OutputFile.Write(mdPath, temporary => File.WriteAllText(temporary, table));
        Console.WriteLine($"Wrote {mdPath}");
        return 0;
    }

    // Per-step milliseconds of each phase over the second of two epochs of a fresh network.
    private static double[] TimeSecondEpoch(BlockSparseTrainer.Options options, Tensor x, Tensor y, int classes, ulong seed)
    {
        var run = RunDescription.From(options);
        var settings = run.Training;
        using var network = new BlockSparseNetwork(run.Plan((int)x.shape[1], classes, null, options.FeatureColumnName), seed);
        network.train();
        using var optimizer = new ProximalAdam(SparsityHooks.ParameterOrder(network));
        using var hooks = new SparsityHooks(network, optimizer, settings.Sparsity);
        using var generator = new Generator(seed);
        long count = x.shape[0];
        int batch = settings.BatchSize;
        var phases = new double[Phases.Length];
        long steps = 0;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            hooks.BeginEpoch(epoch);
            using var order = randperm(count, generator: generator);
            Array.Clear(phases);
            steps = 0;
            var clock = new Stopwatch();
            for (long start = 0; start < count; start += batch, steps++)
            {
                using var scope = NewDisposeScope();
                clock.Restart();
                var index = order.narrow(0, start, Math.Min(batch, count - start));
                var features = x.index_select(0, index);
                var target = y.index_select(0, index);
                phases[0] += Lap(clock);
                var logits = network.call(features);
                phases[1] += Lap(clock);
                var loss = nn.functional.cross_entropy(logits, target);
                loss.item<float>();   // the training loop reads it (divergence check), which also ends the forward work
                phases[2] += Lap(clock);
                optimizer.ZeroGrad();
                loss.backward();
                phases[3] += Lap(clock);
                optimizer.Step(settings.LearningRate);
                phases[4] += Lap(clock);
                hooks.AfterStep(settings.LearningRate);
                phases[5] += Lap(clock);
                using (no_grad())
                    logits.argmax(1).eq(target).sum().item<long>();
                phases[6] += Lap(clock);
            }
            hooks.AfterEpoch(epoch);
        }
        return phases.Select(p => p / steps).ToArray();
    }

    private static double Lap(Stopwatch clock)
    {
        double ms = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        return ms;
    }


    public static string Table(IReadOnlyList<string> names, IReadOnlyDictionary<string, List<double[]>> samples)
    {
        var text = new StringBuilder();
        text.AppendLine($"| phase of one step | {string.Join(" | ", names.Select(n => n + ", ms"))} |");
        text.AppendLine($"|---|{string.Concat(names.Select(_ => "---|"))}");
        for (int p = 0; p < Phases.Length; p++)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Phases[p]} | {string.Join(" | ", names.Select(n => BenchFiles.Median(samples[n].Select(s => s[p])).ToString("F2", CultureInfo.InvariantCulture)))} |"));
        double dense = BenchFiles.Median(samples[names[0]].Select(s => s.Sum()));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| **step** (median of the rounds' sums) | {string.Join(" | ", names.Select(n => { double m = BenchFiles.Median(samples[n].Select(s => s.Sum())); return n == names[0] ? $"**{m:F2}**" : $"**{m:F2} ({m / dense:F2}×)**"; }))} |"));
        return text.ToString();
    }
}
