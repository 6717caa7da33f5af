using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>The training rows copied out of an <see cref="IDataView"/> into flat arrays, once.</summary>
internal sealed class TrainingSet
{
    public required float[] Features { get; init; }
    public required long[] Labels { get; init; }
    public required int FeatureLength { get; init; }
    public int Rows => Labels.Length;

    /// <summary>Rows whose label was missing (key 0); skipped, as ML.NET's trainers do.</summary>
    public long SkippedMissingLabels { get; init; }

    // role: what the rows are, for messages ("The training data", or the validation set's option name).
    public static TrainingSet Read(IDataView data, DataViewSchema.Column label, DataViewSchema.Column features, int featureLength,
        CancellationToken cancellation = default, string role = "The training data")
    {
        // Size the buffers once when the view knows its row count: MNIST is 47M floats, and growing
        // by doubling would hold up to three copies at once.
        long expectedRows = data.GetRowCount() ?? 0;
        var values = new List<float>(checked((int)Math.Min(expectedRows * featureLength, Array.MaxLength)));
        var labels = new List<long>((int)Math.Min(expectedRows, Array.MaxLength));
        long row = -1, skipped = 0;
        using (var cursor = data.GetRowCursor(new[] { label, features }))
        {
            var getLabel = cursor.GetGetter<uint>(label);
            var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
            uint key = 0;
            VBuffer<float> vector = default;
            var dense = new float[featureLength];
            while (cursor.MoveNext())
            {
                row++;
                if ((row & 0xFFF) == 0)
                    cancellation.ThrowIfCancellationRequested();
                getLabel(ref key);
                if (key == 0)
                {
                    skipped++;
                    continue;
                }
                getFeatures(ref vector);
                if (vector.Length != featureLength)
                    throw new InvalidOperationException($"Row {row}: feature column '{features.Name}' has {vector.Length} values; the schema says {featureLength}.");
                vector.CopyTo(dense);
                for (int i = 0; i < dense.Length; i++)
                {
                    if (!float.IsFinite(dense[i]))
                        throw new InvalidOperationException(
                            $"Row {row}: feature column '{features.Name}' holds {dense[i]} at slot {i}. Features must be finite numbers; "
                            + "replace missing values first (for example mlContext.Transforms.ReplaceMissingValues).");
                }
                values.AddRange(dense);
                labels.Add(key - 1);
            }
        }
        if (labels.Count == 0)
        {
            throw new InvalidOperationException(row < 0
                ? $"{role} is empty: it has no rows."
                : $"{role} has no usable rows: all {row + 1} rows have a missing label in column '{label.Name}'.");
        }
        return new TrainingSet { Features = values.ToArray(), Labels = labels.ToArray(), FeatureLength = featureLength, SkippedMissingLabels = skipped };
    }
}
