using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.Batching;

/// <summary>
/// One pass over a data view before streaming: counts the rows of each class in the training and the held-out
/// part (for the same checks the in-memory path makes: not empty, two classes, every class trained on) and,
/// when a checkpoint needs it, hashes every row. Reads the label column only unless it hashes, so upstream
/// image decoding does not run for the count.
/// </summary>
internal sealed class StreamScan
{
    /// <summary>Rows in the data view, a missing label or not.</summary>
    public long Rows { get; private init; }

    /// <summary>Rows whose label was missing (key 0).</summary>
    public long SkippedMissingLabels { get; private init; }

    /// <summary>Usable rows per class (0-based), in the training part.</summary>
    public required Dictionary<long, long> Training { get; init; }

    /// <summary>Usable rows per class (0-based), in the held-out part (empty without a split).</summary>
    public required Dictionary<long, long> Held { get; init; }

    public long TrainingRows => Training.Values.Sum();
    public long HeldRows => Held.Values.Sum();

    /// <summary>SHA-256 of every usable row (label, then features, row by row), hex; empty when not asked for.</summary>
    public string Digest { get; private init; } = "";

    public static StreamScan Run(IDataView data, DataViewSchema.Column label, DataViewSchema.Column features, int featureLength,
        double heldFraction, ulong seed, bool digest, CancellationToken cancellation)
    {
        var training = new Dictionary<long, long>();
        var held = new Dictionary<long, long>();
        using var hash = digest ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        long rows = 0, skipped = 0;
        using (var cursor = data.GetRowCursor(digest ? [label, features] : [label]))
        {
            var getLabel = cursor.GetGetter<uint>(label);
            var getFeatures = digest ? cursor.GetGetter<VBuffer<float>>(features) : null;
            var dense = new float[featureLength];
            VBuffer<float> vector = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                long position = cursor.Position;
                rows++;
                if ((position & 0xFFF) == 0)
                    cancellation.ThrowIfCancellationRequested();
                getLabel(ref key);
                if (key == 0)
                {
                    skipped++;
                    continue;
                }
                long cls = key - 1;
                var counts = heldFraction > 0 && RowSplit.IsHeld(position, heldFraction, seed) ? held : training;
                counts[cls] = counts.GetValueOrDefault(cls) + 1;
                if (hash is not null)
                {
                    getFeatures!(ref vector);
                    if (vector.Length != featureLength)
                        throw new InvalidOperationException($"Row {position}: feature column '{features.Name}' has {vector.Length} values; the schema says {featureLength}.");
                    vector.CopyTo(dense);
                    hash.AppendData(BitConverter.GetBytes(cls));
                    hash.AppendData(MemoryMarshal.AsBytes(dense.AsSpan()));
                }
            }
        }
        return new StreamScan
        {
            Rows = rows,
            SkippedMissingLabels = skipped,
            Training = training,
            Held = held,
            Digest = hash is null ? "" : Convert.ToHexString(hash.GetHashAndReset()),
        };
    }
}
