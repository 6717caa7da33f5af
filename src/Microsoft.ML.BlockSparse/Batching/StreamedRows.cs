using System.Runtime.InteropServices;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Batching;

/// <summary>
/// Rows read from a data view's cursor on every pass (<see cref="DataCaching.Stream"/>): upstream transforms
/// (image decoding, resizing) run as the rows are read, and no more than the shuffle buffer and one batch
/// of rows is ever held, whatever the number of rows.
/// </summary>
/// <remarks>
/// A shuffled epoch is a shuffle buffer of <c>bufferRows</c> rows: it fills with the first rows read; then
/// each further row read replaces a buffered row drawn at random, which goes into the batch; at the end the
/// buffer empties in random order. The draws come from a <see cref="StreamRandom"/> keyed by the seed and the
/// epoch, so an epoch's order depends on nothing else: same seed, same batches, and a run resumed at an
/// epoch boundary repeats exactly the epochs an uninterrupted run takes.
/// </remarks>
internal sealed class StreamedRows : IRowBatches
{
    private const ulong ShufflePurpose = 1;

    private readonly IDataView data;
    private readonly DataViewSchema.Column label;
    private readonly DataViewSchema.Column features;
    private readonly int featureLength;
    private readonly RowSplit split;
    private readonly int bufferRows;
    private readonly ulong seed;
    private readonly Device device;
    private readonly CancellationToken cancellation;

    public StreamedRows(IDataView data, DataViewSchema.Column label, DataViewSchema.Column features, int featureLength,
        RowSplit split, long count, int bufferRows, ulong seed, Device device, CancellationToken cancellation)
    {
        this.data = data;
        this.label = label;
        this.features = features;
        this.featureLength = featureLength;
        this.split = split;
        Count = count;
        this.bufferRows = bufferRows;
        this.seed = seed;
        this.device = device;
        this.cancellation = cancellation;
    }

    public long Count { get; }

    /// <summary>The shuffle buffer's capacity: never more rows than a pass yields.</summary>
    public int BufferRows => (int)Math.Min(bufferRows, Count);

    public IBatchReader Shuffled(int epoch, Generator shuffler, long batchSize)
        => new Reader(this, batchSize, BufferRows, StreamRandom.For(seed, ShufflePurpose, epoch));

    // Validation reads 4096 rows at a time; a batch array of large images that size would be gigabytes, so it is
    // capped at 2^24 floats (64 MB). Accuracy does not depend on how the rows are batched.
    public IBatchReader InOrder(long batchSize) => new Reader(this, Math.Min(batchSize, Math.Max(1, (1L << 24) / featureLength)), 0, default);

    /// <summary>A pass as the reader sees it, for tests: rows taken from the cursor and rows given out in batches.</summary>
    internal Reader Open(long batchSize, int epoch) => new(this, batchSize, BufferRows, StreamRandom.For(seed, ShufflePurpose, epoch));

    public void Dispose()
    {
        // The data view is the caller's; nothing is held between passes.
    }

    internal sealed class Reader : IBatchReader
    {
        private readonly StreamedRows rows;
        private readonly int width;
        private readonly int capacity;
        private readonly DataViewRowCursor cursor;
        private readonly ValueGetter<uint> getLabel;
        private readonly ValueGetter<VBuffer<float>> getFeatures;
        private readonly float[] bufferFeatures;
        private readonly long[] bufferLabels;
        private readonly float[] batchFeatures;
        private readonly long[] batchLabels;
        private StreamRandom random;
        private VBuffer<float> vector;
        private int buffered;
        private bool exhausted;

        public Reader(StreamedRows rows, long batchSize, int capacity, StreamRandom random)
        {
            this.rows = rows;
            width = rows.featureLength;
            this.capacity = capacity;
            this.random = random;
            int batch = (int)Math.Min(batchSize, Math.Max(1, rows.Count));
            bufferFeatures = new float[(long)capacity * width];
            bufferLabels = new long[capacity];
            batchFeatures = new float[(long)batch * width];
            batchLabels = new long[batch];
            cursor = rows.data.GetRowCursor([rows.label, rows.features]);
            getLabel = cursor.GetGetter<uint>(rows.label);
            getFeatures = cursor.GetGetter<VBuffer<float>>(rows.features);
        }

        /// <summary>Rows of this pass read from the cursor so far.</summary>
        public long RowsRead { get; private set; }

        /// <summary>Rows of this pass given out in batches so far.</summary>
        public long RowsGiven { get; private set; }

        public bool TryNext(out Tensor features, out Tensor labels)
        {
            int n = 0;
            while (n < batchLabels.Length)
            {
                if (!exhausted && MoveToNextRow(out long position))
                {
                    if (buffered < capacity)
                    {
                        ReadRow(position, bufferFeatures, bufferLabels, buffered++);
                        continue;
                    }
                    if (capacity == 0)
                    {
                        ReadRow(position, batchFeatures, batchLabels, n++);
                        continue;
                    }
                    int slot = random.Next(capacity);
                    Give(slot, n++);
                    ReadRow(position, bufferFeatures, bufferLabels, slot);
                    continue;
                }
                exhausted = true;
                if (buffered == 0)
                    break;
                // Emptying in random order: draw a buffered row, then fill its slot with the last one.
                int drawn = random.Next(buffered);
                Give(drawn, n++);
                if (drawn != --buffered)
                {
                    Array.Copy(bufferFeatures, (long)buffered * width, bufferFeatures, (long)drawn * width, width);
                    bufferLabels[drawn] = bufferLabels[buffered];
                }
            }
            RowsGiven += n;
            if (n == 0)
            {
                if (RowsGiven != rows.Count)
                {
                    throw new InvalidOperationException(
                        $"The data view gave {RowsGiven} usable rows in this pass and {rows.Count} in the first: streaming reads the rows again every "
                        + "epoch and needs a data view that gives the same rows each time (a file that changed, or a transform with random output?).");
                }
                features = labels = null!;
                return false;
            }
            // Copied into native tensors: torch.tensor(array) would clone the array into a new pinned managed one per
            // batch, megabytes each for large images, which the garbage collector lets pile up far past the buffer.
            var hostFeatures = empty([n, width], dtype: ScalarType.Float32);
            hostFeatures.bytes = MemoryMarshal.AsBytes(batchFeatures.AsSpan(0, n * width));
            var hostLabels = empty([n], dtype: ScalarType.Int64);
            hostLabels.bytes = MemoryMarshal.AsBytes(batchLabels.AsSpan(0, n));
            // .to() returns the same tensor on the CPU; elsewhere the host copies are the caller's scope's to dispose.
            features = hostFeatures.to(rows.device);
            labels = hostLabels.to(rows.device);
            return true;
        }

        private bool MoveToNextRow(out long position)
        {
            while (cursor.MoveNext())
            {
                position = cursor.Position;
                if ((position & 0xFFF) == 0)
                    rows.cancellation.ThrowIfCancellationRequested();
                if (!rows.split.Includes(position))
                    continue;
                uint key = 0;
                getLabel(ref key);
                if (key == 0)
                    continue;   // a missing label, skipped as the in-memory path skips it
                return true;
            }
            position = -1;
            return false;
        }

        private void ReadRow(long position, float[] toFeatures, long[] toLabels, int slot)
        {
            uint key = 0;
            getLabel(ref key);
            getFeatures(ref vector);
            if (vector.Length != width)
                throw new InvalidOperationException($"Row {position}: feature column '{rows.features.Name}' has {vector.Length} values; the schema says {width}.");
            var target = toFeatures.AsSpan(slot * width, width);
            vector.CopyTo(target);
            for (int i = 0; i < target.Length; i++)
            {
                if (!float.IsFinite(target[i]))
                {
                    throw new InvalidOperationException(
                        $"Row {position}: feature column '{rows.features.Name}' holds {target[i]} at slot {i}. Features must be finite numbers; "
                        + "replace missing values first (for example mlContext.Transforms.ReplaceMissingValues).");
                }
            }
            toLabels[slot] = key - 1;
            RowsRead++;
        }

        private void Give(int slot, int n)
        {
            Array.Copy(bufferFeatures, (long)slot * width, batchFeatures, (long)n * width, width);
            batchLabels[n] = bufferLabels[slot];
        }

        public void Dispose() => cursor.Dispose();
    }
}
