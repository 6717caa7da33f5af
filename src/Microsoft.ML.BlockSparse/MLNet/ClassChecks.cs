using System.Globalization;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// The errors for training rows a classifier cannot learn from, worded once for both ways of reading
/// them (copied into memory, or streamed), so the two paths refuse the same data with the same message.
/// </summary>
internal static class ClassChecks
{
    /// <summary>Every one of <paramref name="rows"/> rows has class <paramref name="onlyClass"/>.</summary>
    public static InvalidOperationException SameLabel(long rows, long onlyClass, DataViewSchema.Column label) => new(
        $"All {rows} training rows have the same label, class {onlyClass}{NameOf(onlyClass, LabelKeys.Values(label))} of column '{label.Name}': a classifier "
        + "needs rows of at least 2 classes to learn anything. Check the data (or the filter in front of the trainer).");

    /// <summary>
    /// Throws when the validation split leaves a class without training rows; <paramref name="heldOutOnly"/> maps each
    /// class that has no training row to its number of held-out rows.
    /// </summary>
    public static void RequireEveryClassInTraining(IEnumerable<KeyValuePair<long, long>> heldOutOnly, double fraction, long held, long total,
        DataViewSchema.Column label)
    {
        var lacking = heldOutOnly.OrderBy(c => c.Key).ToList();
        if (lacking.Count == 0)
            return;
        var names = LabelKeys.Values(label);
        var described = lacking.Take(5).Select(c => string.Create(CultureInfo.InvariantCulture,
            $"class {c.Key}{NameOf(c.Key, names)}, {c.Value} rows, all held out"));
        var more = lacking.Count > 5 ? $"; and {lacking.Count - 5} more classes" : "";
        throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ValidationFraction), string.Create(CultureInfo.InvariantCulture,
            $"BlockSparseTrainer.Options.ValidationFraction {fraction} holds out {held} of the {total} training rows and leaves no training rows of {string.Join("; ", described)}{more}. Every class needs training rows: use a smaller fraction, or pass a ValidationSet."));
    }

    private static string NameOf(long key, string[]? names) => names is not null && key < names.Length ? $" ('{names[key]}')" : "";
}
