using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// <see cref="DataCaching.Stream"/>: rows read from the data view's cursor every epoch through a bounded shuffle
/// buffer. Memory stays bounded, the same seed gives the same model, a resumed run ends exactly where an
/// uninterrupted one does, the validation split is a fixed function of the seed, and a streamed model learns.
/// </summary>
public class StreamingTests : IDisposable
{
    private const int Width = 24;
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class Row
    {
        public uint Label { get; set; }
        [VectorType(Width)] public float[] Features { get; set; } = new float[Width];
    }

    /// <summary>
    /// Three classes, each lighting up its own third of the features, with noise; slot 0 holds the row's number / 1000.
    /// Generated lazily on every pass (never a list), counting the passes and the rows handed out.
    /// </summary>
    private sealed class LazyRows(int rows, int seed, bool sortedByClass = false)
    {
        public int Passes { get; private set; }
        public long RowsProduced { get; private set; }

        public IEnumerable<Row> Enumerate()
        {
            Passes++;
            var random = new Random(seed);
            for (int i = 0; i < rows; i++)
            {
                RowsProduced++;
                uint label = sortedByClass ? (uint)(i * 3 / rows) : (uint)(i % 3);
                var features = new float[Width];
                for (int j = 1; j < Width; j++)
                    features[j] = (float)random.NextDouble() * 0.5f;
                for (int j = 0; j < Width / 3; j++)
                    features[label * (Width / 3) + j] += 1;
                features[0] = i / 1000f;
                yield return new Row { Label = label, Features = features };   // LoadFromEnumerable stores a key as value + 1
            }
        }

        public IDataView View(MLContext ml)
        {
            var schema = SchemaDefinition.Create(typeof(Row));
            schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
            return ml.Data.LoadFromEnumerable(new Repeatable(this), schema);
        }

        // LoadFromEnumerable enumerates its argument again for every cursor: each pass regenerates the rows.
        private sealed class Repeatable(LazyRows rows) : IEnumerable<Row>
        {
            public IEnumerator<Row> GetEnumerator() => rows.Enumerate().GetEnumerator();
            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        }
    }

    private static BlockSparseTrainer.Options Options(int seed = 1) => new()
    {
        HiddenLayers = [12],
        Epochs = 3,
        BatchSize = 16,
        Device = ComputeDevice.Cpu,
        Seed = seed,
        DataCaching = DataCaching.Stream,
        ShuffleBufferRows = 50,
    };

    private static byte[] Fit(IDataView data, BlockSparseTrainer.Options options)
    {
        using var model = new MLContext(1).MulticlassClassification.Trainers.BlockSparse(options).Fit(data);
        using var onnx = new MemoryStream();
        model.SaveOnnx(onnx);
        return onnx.ToArray();
    }

    [Fact]
    public void ShuffleBufferBoundsTheRowsReadAheadAndEachEpochIsAPermutation()
    {
        var ml = new MLContext(1);
        var source = new LazyRows(1000, seed: 4);
        var data = source.View(ml);
        var label = data.Schema["Label"];
        var features = data.Schema["Features"];
        const int Buffer = 64, Batch = 16;
        using var rows = new StreamedRows(data, label, features, Width, RowSplit.All, 1000, Buffer, seed: 7, CPU, default);

        List<int> Epoch(int epoch)
        {
            long producedBefore = source.RowsProduced;
            var order = new List<int>();
            using var reader = rows.Open(Batch, epoch);
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!reader.TryNext(out var x, out var y))
                    break;
                Assert.Equal(x.shape[0], y.shape[0]);
                var numbers = x.select(1, 0).data<float>().ToArray().Select(v => (int)Math.Round(v * 1000)).ToList();
                // Each row keeps its own label (row i is of class i % 3).
                Assert.Equal(numbers.Select(i => (long)(i % 3)), y.data<long>().ToArray());
                order.AddRange(numbers);
                // Never more rows alive than the buffer plus the batch being filled (and the enumerator's one row of look-ahead).
                long ahead = source.RowsProduced - producedBefore - reader.RowsGiven;
                Assert.True(ahead <= Buffer + 1, $"{ahead} rows ahead: produced {source.RowsProduced - producedBefore}, read {reader.RowsRead}, given {reader.RowsGiven}, passes {source.Passes}");
                Assert.InRange(reader.RowsRead - reader.RowsGiven, 0, Buffer);
            }
            return order;
        }

        var first = Epoch(0);
        Assert.Equal(Enumerable.Range(0, 1000), first.Order());          // every row exactly once
        Assert.NotEqual(Enumerable.Range(0, 1000), first);               // shuffled
        Assert.Equal(first, Epoch(0));                                   // the same epoch gives the same order
        Assert.NotEqual(first, Epoch(1));                                // the next one another
        // Rows move, but no further back than the buffer lets them: row i comes out after row i - Buffer is read.
        for (int position = 0; position < first.Count; position++)
            Assert.True(first[position] <= position + Buffer, $"row {first[position]} came out at {position}, ahead of what the buffer can hold");
    }

    [Fact]
    public void StreamingReadsTheDataViewOncePerEpochAndGivesTheSameBytesForTheSameSeed()
    {
        var ml = new MLContext(1);
        var source = new LazyRows(300, seed: 2);
        var data = source.View(ml);

        var first = Fit(data, Options());
        // One counting pass, then one pass per epoch: nothing is copied into memory.
        Assert.Equal(1 + 3, source.Passes);
        Assert.Equal(first, Fit(data, Options()));
        Assert.NotEqual(first, Fit(data, Options(seed: 2)));
    }

    [Fact]
    public void AutoStreamsOverTheBudgetAndKeepsTheInMemoryPathUnderIt()
    {
        var ml = new MLContext(1);
        var data = ml.Data.Cache(new LazyRows(300, seed: 2).View(ml));
        var stream = Fit(data, Options());
        static BlockSparseTrainer.Options With(DataCaching caching, long budget)
        {
            var o = Options();
            o.DataCaching = caching;
            o.MemoryCacheBudgetBytes = budget;
            return o;
        }
        Assert.Equal(stream, Fit(data, With(DataCaching.Auto, budget: 0)));
        var inMemory = Fit(data, With(DataCaching.Memory, budget: 0));
        Assert.Equal(inMemory, Fit(data, With(DataCaching.Auto, budget: 300 * Width * 4)));
        // The two orders differ, so the models do: Auto chose as documented, not the same path twice.
        Assert.NotEqual(stream, inMemory);
    }

    [Fact]
    public void ResumedStreamingRunEndsWithExactlyTheBytesOfAnUninterruptedRun()
    {
        var ml = new MLContext(1);
        var data = new LazyRows(300, seed: 5).View(ml);
        BlockSparseTrainer.Options Run(string checkpoints, string? resumeFrom = null)
        {
            var o = Options();
            o.Epochs = 4;
            o.PruneEveryEpochs = 2;
            o.L1EveryEpochs = 2;
            o.ValidationFraction = 0.2;
            o.EarlyStoppingPatience = 3;
            o.CheckpointDirectory = checkpoints;
            o.ResumeFrom = resumeFrom;
            return o;
        }
        var uninterrupted = Fit(data, Run(temp.File("whole")));

        var split = temp.File("split");
        using var cancellation = new CancellationTokenSource();
        var interrupted = Run(split);
        interrupted.CancellationToken = cancellation.Token;
        interrupted.Progress = new OnEpoch(e => { if (e.Epoch == 2) cancellation.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(data, interrupted));
        Assert.Equal(2, Directory.GetFiles(split).Length);

        var epochs = new List<int>();
        var resume = Run(split, resumeFrom: split);
        resume.Progress = new OnEpoch(e => epochs.Add(e.Epoch));
        Assert.Equal(uninterrupted, Fit(data, resume));
        Assert.Equal([3, 4], epochs);

        // A checkpoint written in memory mode does not continue as a stream: the batches' order would differ.
        var memory = Run(temp.File("other"), resumeFrom: split);
        memory.DataCaching = DataCaching.Memory;
        var e = Assert.Throws<InvalidOperationException>(() => Fit(data, memory));
        Assert.Contains("Options.DataCaching is Stream, ShuffleBufferRows 50 in the checkpoint and (not recorded) now", e.Message);
    }

    [Fact]
    public void StreamedValidationSplitIsAFixedFunctionOfSeedAndPosition()
    {
        var held = Enumerable.Range(0, 10000).Where(i => RowSplit.IsHeld(i, 0.2, 3)).ToList();
        Assert.InRange(held.Count, 1800, 2200);                                      // about the fraction
        Assert.Equal(held, Enumerable.Range(0, 10000).Where(i => RowSplit.IsHeld(i, 0.2, 3)));
        Assert.NotEqual(held, Enumerable.Range(0, 10000).Where(i => RowSplit.IsHeld(i, 0.2, 4)));
        var training = new RowSplit(RowPart.Training, 0.2, 3);
        var validation = training with { Part = RowPart.Validation };
        // The two parts partition the rows.
        Assert.All(Enumerable.Range(0, 10000), i => Assert.NotEqual(training.Includes(i), validation.Includes(i)));
        Assert.Equal(held, Enumerable.Range(0, 10000).Where(i => validation.Includes(i)));
    }

    [Fact]
    public void StreamedModelLearnsRowsSortedByClassAndReportsValidationAccuracy()
    {
        var ml = new MLContext(1);
        // Sorted by class: only the shuffle buffer mixes them, and it holds a fifth of the rows.
        var data = new LazyRows(600, seed: 6, sortedByClass: true).View(ml);
        var options = Options();
        options.Epochs = 5;
        options.ShuffleBufferRows = 120;
        options.ValidationFraction = 0.2;
        var history = new List<EpochSummary>();
        options.Progress = new OnEpoch(history.Add);
        using var model = ml.MulticlassClassification.Trainers.BlockSparse(options).Fit(data);

        Assert.True(history[^1].ValidationAccuracy >= 0.95, string.Join(" / ", history));
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.True(metrics.MicroAccuracy >= 0.95, $"accuracy {metrics.MicroAccuracy}");
    }

    [Fact]
    public void StreamingRefusesOneClassAndAHugeBufferClearly()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 20).Select(i => new Row { Label = 1, Features = new float[Width] });
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        var oneClass = ml.Data.LoadFromEnumerable(rows, schema);
        var e = Assert.Throws<InvalidOperationException>(() => Fit(oneClass, Options()));
        Assert.True(e.Message.Contains("All 20 training rows have the same label, class 1", StringComparison.Ordinal), e.Message);

        var huge = Options();
        huge.ShuffleBufferRows = int.MaxValue;
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => Fit(new LazyRows(30, 1).View(ml), huge));
        Assert.Equal("ShuffleBufferRows", tooLarge.ParamName);
    }
}
