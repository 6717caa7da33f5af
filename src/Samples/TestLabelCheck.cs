using System.Globalization;

namespace Samples;

/// <summary>
/// Refuses test rows whose label the training rows never have. The pipeline's <c>MapValueToKey</c> is fitted on
/// the training rows, so such a label becomes the missing key, which ML.NET's evaluator skips without a word:
/// "Test metrics (200 rows)" would be computed over 199. Refusing keeps the printed count the scored count.
/// </summary>
internal static class TestLabelCheck
{
    /// <param name="trainLabels">Labels of the rows that are trained on (after any <c>--train-rows</c>).</param>
    /// <param name="testLabels">Labels of the rows that are scored.</param>
    /// <param name="testRows">What the test rows are, for the message: "test rows in FILE", "test images of 'FOLDER'".</param>
    /// <param name="trainRowsLimited">Whether <c>--train-rows</c> cut the training rows, which can drop a label.</param>
    /// <exception cref="InvalidDataException">Some test labels are not among the training labels.</exception>
    public static void RequireSeenInTraining(IEnumerable<string> trainLabels, IReadOnlyList<string> testLabels, string testRows, bool trainRowsLimited)
    {
        var known = trainLabels.ToHashSet(StringComparer.Ordinal);
        var unseen = testLabels.Where(l => !known.Contains(l)).ToList();
        if (unseen.Count == 0)
            return;
        var labels = unseen.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var named = string.Join(", ", labels.Take(10)) + (labels.Count > 10 ? $" and {labels.Count - 10} more" : "");
        var hint = trainRowsLimited ? " (--train-rows reads only the first rows of the training set)" : "";
        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"{unseen.Count} of {testLabels.Count} {testRows} have labels the training rows never have ({named}); the model cannot predict them and ML.NET's evaluator would leave them out of the metrics. Remove those rows, or train on rows of those labels{hint}."));
    }
}
