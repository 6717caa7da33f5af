using System.Globalization;
using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.MLNet;

internal sealed partial class TrainingRows
{
    /// <summary>
    /// <see cref="DataCaching.Memory"/> or <see cref="DataCaching.Stream"/> as asked; for <see cref="DataCaching.Auto"/>,
    /// memory when rows × features × 4 bytes fits <see cref="BlockSparseTrainer.Options.MemoryCacheBudgetBytes"/>
    /// (rows from the data view when it knows them, else counted on the label column).
    /// </summary>
    private static DataCaching ChooseCaching(RunDescription run, IDataView input, DataViewSchema.Column label, int featureLength)
    {
        if (run.DataCaching != DataCaching.Auto)
            return run.DataCaching;
        long rows = input.GetRowCount() ?? CountRows(input, label, run.Cancellation);
        double bytes = (double)rows * featureLength * sizeof(float);
        return bytes <= run.MemoryCacheBudgetBytes ? DataCaching.Memory : DataCaching.Stream;
    }

    private static long CountRows(IDataView input, DataViewSchema.Column label, CancellationToken cancellation)
    {
        long rows = 0;
        using var cursor = input.GetRowCursor([label]);
        while (cursor.MoveNext())
        {
            if ((++rows & 0xFFFF) == 0)
                cancellation.ThrowIfCancellationRequested();
        }
        return rows;
    }

    private static TrainingRows PrepareStreaming(RunDescription run, IDataView input, DataViewSchema.Column label,
        DataViewSchema.Column features, int featureLength, int classes, Device device, bool digest)
    {
        // The buffer is one array: a buffer of rows × features floats larger than .NET's largest array is refused here, clearly.
        if ((long)run.ShuffleBufferRows * featureLength > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ShuffleBufferRows), string.Create(CultureInfo.InvariantCulture,
                $"BlockSparseTrainer.Options.ShuffleBufferRows {run.ShuffleBufferRows} × {featureLength} features is more floats than one array holds ({Array.MaxLength}); use at most {Array.MaxLength / featureLength} rows."));
        }
        ulong seed = run.Training.Seed;
        var scan = StreamScan.Run(input, label, features, featureLength, run.ValidationFraction, seed, digest, run.Cancellation);
        RequireUsableRows(scan, label, "The training data");
        RequireTwoClasses(scan, label);

        IRowBatches? validation = null;
        string digestText = scan.Digest;
        var trainPart = RowSplit.All;
        long trainRows = scan.TrainingRows;
        if (run.ValidationSet is { } set)
        {
            var (setLabel, setFeatures) = CheckValidationSet(run, set, label, features, featureLength, classes);
            var setScan = StreamScan.Run(set, setLabel, setFeatures, featureLength, 0, seed, digest, run.Cancellation);
            RequireUsableRows(setScan, setLabel, ValidationSetOption);
            validation = new StreamedRows(set, setLabel, setFeatures, featureLength, RowSplit.All, setScan.TrainingRows, run.ShuffleBufferRows, seed, device, run.Cancellation);
            if (digest)
                digestText += setScan.Digest;
        }
        else if (run.ValidationFraction > 0)
        {
            RequireSplitLeavesBothParts(scan, run.ValidationFraction, label);
            trainPart = new RowSplit(RowPart.Training, run.ValidationFraction, seed);
            validation = new StreamedRows(input, label, features, featureLength, trainPart with { Part = RowPart.Validation },
                scan.HeldRows, run.ShuffleBufferRows, seed, device, run.Cancellation);
        }
        var train = new StreamedRows(input, label, features, featureLength, trainPart, trainRows, run.ShuffleBufferRows, seed, device, run.Cancellation);
        return new TrainingRows(train, validation, scan.SkippedMissingLabels, digestText, DataCaching.Stream);
    }

    private static void RequireUsableRows(StreamScan scan, DataViewSchema.Column label, string role)
    {
        if (scan.TrainingRows + scan.HeldRows > 0)
            return;
        throw new InvalidOperationException(scan.Rows == 0
            ? $"{role} is empty: it has no rows."
            : $"{role} has no usable rows: all {scan.Rows} rows have a missing label in column '{label.Name}'.");
    }

    private static void RequireTwoClasses(StreamScan scan, DataViewSchema.Column label)
    {
        var seen = scan.Training.Keys.Union(scan.Held.Keys).ToList();
        if (seen.Count >= 2)
            return;
        throw ClassChecks.SameLabel(scan.TrainingRows + scan.HeldRows, seen[0], label);
    }

    // The streamed split holds out rows by a hash of their position (RowSplit), so the counts are about, not exactly, the fraction.
    private static void RequireSplitLeavesBothParts(StreamScan scan, double fraction, DataViewSchema.Column label)
    {
        long total = scan.TrainingRows + scan.HeldRows;
        if (scan.HeldRows < 1 || scan.TrainingRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationFraction), string.Create(CultureInfo.InvariantCulture,
                $"BlockSparseTrainer.Options.ValidationFraction {fraction} holds out {scan.HeldRows} of the {total} training rows (streaming holds out each row by a hash of its position and the seed); the training and the validation part each need at least 1 row."));
        }
        ClassChecks.RequireEveryClassInTraining(scan.Held.Where(c => !scan.Training.ContainsKey(c.Key)), fraction, scan.HeldRows, total, label);
    }
}
