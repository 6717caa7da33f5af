using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Training;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// The rows <see cref="BlockSparseTrainer.Fit"/> trains and validates on: in memory, as tensors on the training
/// device, read once, checked (at least two classes), split or joined with the validation rows; or streamed
/// from the data view every epoch (TrainingRows.Streaming.cs), after a counting pass that makes the same checks.
/// <see cref="DataCaching.Auto"/> chooses by the size of the features.
/// </summary>
internal sealed partial class TrainingRows : IDisposable
{
    private TrainingRows(LabelledRows train, LabelledRows? validation, long skippedMissingLabels, string digest)
        : this(new InMemoryBatches(train), validation is null ? null : new InMemoryBatches(validation), skippedMissingLabels, digest, DataCaching.Memory)
    {
    }

    private TrainingRows(IRowBatches train, IRowBatches? validation, long skippedMissingLabels, string digest, DataCaching caching)
    {
        Train = train;
        Validation = validation;
        SkippedMissingLabels = skippedMissingLabels;
        Digest = digest;
        Caching = caching;
    }

    public IRowBatches Train { get; }
    public IRowBatches? Validation { get; }
    public long SkippedMissingLabels { get; }

    /// <summary>How the rows are read in this run: <see cref="DataCaching.Memory"/> or <see cref="DataCaching.Stream"/>.</summary>
    public DataCaching Caching { get; }

    /// <summary>For the checkpoint fingerprint: how the rows are read, when that changes the order of the batches; null in memory.</summary>
    public string? Streaming => Train is StreamedRows streamed
        ? string.Create(CultureInfo.InvariantCulture, $"Stream, ShuffleBufferRows {streamed.BufferRows}")
        : null;

    /// <summary>SHA-256 of every row read (training and validation), hex; empty when not asked for.</summary>
    public string Digest { get; }

    public static TrainingRows Prepare(RunDescription run, IDataView input, DataViewSchema.Column label,
        DataViewSchema.Column features, int featureLength, int classes, Device device, bool digest)
    {
        if (ChooseCaching(run, input, label, featureLength) == DataCaching.Stream)
            return PrepareStreaming(run, input, label, features, featureLength, classes, device, digest);
        var rows = TrainingSet.Read(input, label, features, featureLength, run.Cancellation);
        RequireTwoClasses(rows, label);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (digest)
            Append(hash, rows);

        LabelledRows train, validation;
        if (run.ValidationSet is { } set)
        {
            var held = ReadValidationSet(run, set, label, features, featureLength, classes);
            if (digest)
                Append(hash, held);
            train = ToDevice(rows, device);
            validation = ToDevice(held, device);
        }
        else if (run.ValidationFraction > 0)
        {
            (train, validation) = Split(rows, run.ValidationFraction, run.Training.Seed, device, label);
        }
        else
        {
            return new TrainingRows(ToDevice(rows, device), null, rows.SkippedMissingLabels, digest ? Convert.ToHexString(hash.GetHashAndReset()) : "");
        }
        return new TrainingRows(train, validation, rows.SkippedMissingLabels, digest ? Convert.ToHexString(hash.GetHashAndReset()) : "");
    }

    private static void RequireTwoClasses(TrainingSet rows, DataViewSchema.Column label)
    {
        long first = rows.Labels[0];
        if (Array.TrueForAll(rows.Labels, l => l == first))
            throw ClassChecks.SameLabel(rows.Rows, first, label);
    }

    private static TrainingSet ReadValidationSet(RunDescription run, IDataView set, DataViewSchema.Column trainLabel,
        DataViewSchema.Column trainFeatures, int featureLength, int classes)
    {
        var (label, features) = CheckValidationSet(run, set, trainLabel, trainFeatures, featureLength, classes);
        return TrainingSet.Read(set, label, features, featureLength, run.Cancellation, ValidationSetOption);
    }

    private const string ValidationSetOption = "BlockSparseTrainer.Options.ValidationSet";

    // The validation set's columns, checked against the training data's: same length, image shape and label keys.
    private static (DataViewSchema.Column Label, DataViewSchema.Column Features) CheckValidationSet(RunDescription run, IDataView set,
        DataViewSchema.Column trainLabel, DataViewSchema.Column trainFeatures, int featureLength, int classes)
    {
        const string Option = "BlockSparseTrainer.Options.ValidationSet";
        DataViewSchema.Column label, features;
        int setClasses, setLength;
        try
        {
            (label, features, setClasses, setLength) = InputSchemaCheck.Check(set.Schema, run.LabelColumn, run.FeatureColumn);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationSet), $"{Option}: {e.Message.Split(" (Parameter")[0]}");
        }
        if (setLength != featureLength)
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationSet),
                $"{Option} has {setLength} values in feature column '{run.FeatureColumn}'; the training data has {featureLength}.");
        // Pixels of another image shape have the same length when the sides' product matches (14x56 and 28x28):
        // a convolutional network would read them as the training shape. Both columns' [C, H, W] must agree.
        if (ImageShapeCheck.FromColumnType(trainFeatures.Type) is { } trainShape && ImageShapeCheck.FromColumnType(features.Type) is { } setShape && setShape != trainShape)
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationSet),
                $"{Option}'s feature column '{run.FeatureColumn}' holds images of {setShape} (channels x height x width); the training data's are {trainShape}. "
                + "Featurise both with the same image shape.");
        if (setClasses != classes)
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationSet),
                $"{Option}'s label column '{run.LabelColumn}' is a key of {setClasses} classes; the training data's has {classes}. "
                + "Map both with the same fitted MapValueToKey transformer.");
        if (LabelKeys.Values(trainLabel) is { } expected && LabelKeys.Values(label) is { } actual && LabelKeys.FirstDifference(expected, actual) is { } difference)
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationSet),
                $"{Option}'s label keys are not the training data's ({difference}). Map both with the same fitted MapValueToKey transformer.");
        return (label, features);
    }

    // Which rows are held out depends on the seed alone; both parts keep the rows' original order.
    private static (LabelledRows Train, LabelledRows Validation) Split(TrainingSet rows, double fraction, ulong seed, Device device, DataViewSchema.Column label)
    {
        long total = rows.Rows;
        long held = (long)Math.Round(fraction * total);
        if (held < 1 || held >= total)
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationFraction),
                $"BlockSparseTrainer.Options.ValidationFraction {fraction} holds out {held} of the {total} training rows; "
                + "the training and the validation part each need at least 1 row.");
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed + 2);
        var all = ToDevice(rows, CPU);
        var order = randperm(total, generator: generator);
        var trainIndex = order.narrow(0, held, total - held).sort().Values;
        RequireEveryClassInTraining(rows, trainIndex.data<long>().ToArray(), fraction, held, label);
        var train = Select(all, trainIndex, device);
        var validation = Select(all, order.narrow(0, 0, held).sort().Values, device);
        foreach (var part in new[] { train.Features, train.Labels, validation.Features, validation.Labels })
            part.DetachFromDisposeScope();
        return (train, validation);
    }

    // A class whose rows all went to validation cannot be learnt, and with few rows a large fraction does that
    // silently (0.999 of 1000 rows trained on one row). Refused, naming the classes and their counts.
    private static void RequireEveryClassInTraining(TrainingSet rows, long[] trainIndex, double fraction, long held, DataViewSchema.Column label)
    {
        var trained = trainIndex.Select(i => rows.Labels[i]).ToHashSet();
        var heldOutOnly = rows.Labels.CountBy(l => l).Where(c => !trained.Contains(c.Key)).Select(c => KeyValuePair.Create(c.Key, (long)c.Value));
        ClassChecks.RequireEveryClassInTraining(heldOutOnly, fraction, held, rows.Rows, label);
    }

    private static LabelledRows Select(LabelledRows all, Tensor index, Device device)
        => new(Move(all.Features.index_select(0, index), device), Move(all.Labels.index_select(0, index), device));

    private static LabelledRows ToDevice(TrainingSet rows, Device device)
        => new(Move(tensor(rows.Features, [rows.Rows, rows.FeatureLength]), device), Move(tensor(rows.Labels), device));

    // .to() returns the same tensor when it is already there; otherwise the host copy goes at once.
    private static Tensor Move(Tensor host, Device device)
    {
        var moved = host.to(device);
        if (!ReferenceEquals(moved, host))
            host.Dispose();
        return moved;
    }

    private static void Append(IncrementalHash hash, TrainingSet rows)
    {
        hash.AppendData(MemoryMarshal.AsBytes(rows.Labels.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(rows.Features.AsSpan()));
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
    }
}
