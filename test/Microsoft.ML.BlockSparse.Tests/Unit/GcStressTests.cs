using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Runs alone: its tests count tensors process-wide, which other tests running beside it would disturb.
/// </summary>
[CollectionDefinition(nameof(GcStressTests), DisableParallelization = true)]
public sealed class GcStressCollection;

/// <summary>
/// Training never leaves a TorchSharp object to the finaliser and gives the same bytes while the
/// garbage collector runs all the time. A tensor or scalar that only the finaliser frees can be freed
/// in the middle of a native call that still reads it (the intermittent "toDouble" failure), so
/// "nothing left for the finaliser" is the property that rules that out, and the collector that never
/// rests is the stress that would show it.
/// </summary>
[Collection(nameof(GcStressTests))]
public class GcStressTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class Row
    {
        public uint Label { get; set; }
        [VectorType(144)] public float[] Features { get; set; } = new float[144];
    }

    // Three classes, each lighting up its own third of a 12x12 "image", with noise.
    private static IDataView Data(MLContext ml, int rows, int seed)
    {
        var random = new Random(seed);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i =>
        {
            var features = Enumerable.Range(0, 144).Select(_ => (float)random.NextDouble() * 0.5f).ToArray();
            uint label = (uint)(i % 3);
            for (int j = 0; j < 48; j++)
                features[label * 48 + j] += 1;
            return new Row { Label = label, Features = features };
        }).ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
    }

    /// <summary>Every training path: each method, λ2 search, pruning, validation with early stopping, checkpoints, LeNet5, streamed rows.</summary>
    private static readonly string[] PathNames = ["kronecker", "search", "dense", "grouplasso", "validation+checkpoints", "lenet5", "stream"];

    public static TheoryData<string> Paths => new(PathNames);

    private BlockSparseTrainer.Options Options(string path, int seed = 1)
    {
        var options = new BlockSparseTrainer.Options
        {
            HiddenLayers = [16],
            Epochs = 3,
            BatchSize = 32,
            PruneEveryEpochs = 2,
            Device = ComputeDevice.Cpu,
            Seed = seed,
        };
        switch (path)
        {
            case "search":
                options.CandidateBlockShapes = [[new BlockShape(2, 4), new BlockShape(4, 8)], [new BlockShape(1, 4), new BlockShape(3, 8)]];
                options.SearchBlockShapes = true;
                options.ShapeSearchLambdaStart = 0.05;
                break;
            case "dense":
                options.Method = BlockSparseMethod.Dense;
                break;
            case "grouplasso":
                options.Method = BlockSparseMethod.GroupLasso;
                options.TargetBlockSparsity = 0.5;
                break;
            case "validation+checkpoints":
                options.ValidationFraction = 0.25;
                options.EarlyStoppingPatience = 1;
                options.CheckpointDirectory = Path.Combine(temp.Path, $"checkpoints-{Guid.NewGuid():N}");
                break;
            case "stream":
                options.DataCaching = DataCaching.Stream;
                options.ShuffleBufferRows = 64;
                options.ValidationFraction = 0.25;
                options.EarlyStoppingPatience = 1;
                options.CheckpointDirectory = Path.Combine(temp.Path, $"checkpoints-{Guid.NewGuid():N}");
                break;
            case "lenet5":
                options.Architecture = NetworkArchitecture.LeNet5;
                options.ImageShape = new ImageShape(1, 12, 12);
                break;
        }
        return options;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TrainingLeavesNoTensorToTheFinaliser(string path)
    {
        var ml = new MLContext(1);
        var data = Data(ml, 240, seed: 2);
        CollectEverything();
        long before = torch.Tensor.TotalCount;
        using (var model = ml.MulticlassClassification.Trainers.BlockSparse(Options(path)).Fit(data))
        {
            // Scoring is ONNX Runtime's; it makes no tensors, but it must not keep the trainer's alive either.
            model.Transform(data).Preview(5);
        }
        long live = torch.Tensor.TotalCount;
        CollectEverything();
        // Tensors the collector freed were never disposed: each could have been freed mid-call instead.
        Assert.Equal(live, torch.Tensor.TotalCount);
        // And none stays alive after the model is disposed, beyond TorchSharp's own count of the handles
        // that parameters take over from the tensors they are made from (one per parameter).
        Assert.InRange(live - before, 0, 40);
    }

    [Fact]
    public void ManyShortFitsGiveTheSameBytesWhileTheCollectorNeverRests()
    {
        var ml = new MLContext(1);
        var data = Data(ml, 240, seed: 3);
        var paths = PathNames;
        var expected = paths.Select(p => Fit(ml, data, p)).ToArray();

        using var stop = new CancellationTokenSource();
        long collections = 0;
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < paths.Length; i++)
                    Assert.True(expected[i].AsSpan().SequenceEqual(Fit(ml, data, paths[i])), $"{paths[i]}: another network under garbage-collection stress (round {round + 1})");
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        Assert.True(Interlocked.Read(ref collections) > 100, $"only {collections} collections ran: not much of a stress");
    }

    private byte[] Fit(MLContext ml, IDataView data, string path)
    {
        using var model = ml.MulticlassClassification.Trainers.BlockSparse(Options(path)).Fit(data);
        using var onnx = new MemoryStream();
        model.SaveOnnx(onnx);
        return onnx.ToArray();
    }

    private static void CollectEverything()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
