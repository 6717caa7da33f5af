using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>The values behind a key-typed label column (its <c>KeyValues</c> annotation), as text.</summary>
internal static class LabelKeys
{
    private const string KeyValuesKind = "KeyValues";

    /// <summary>The key values in key order, or null when the column carries none.</summary>
    public static string[]? Values(DataViewSchema.Column column)
    {
        var annotation = column.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (annotation?.Type is not VectorDataViewType vector)
            return null;
        var method = typeof(LabelKeys).GetMethod(nameof(ValuesOf), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(vector.ItemType.RawType);
        return (string[])method.Invoke(null, [column])!;
    }

    private static string[] ValuesOf<T>(DataViewSchema.Column column)
    {
        VBuffer<T> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v?.ToString() ?? "").ToArray();
    }

    /// <summary>The first key where two value lists differ, described for a message; null when they agree.</summary>
    public static string? FirstDifference(string[] expected, string[] actual)
    {
        for (int i = 0; i < Math.Min(expected.Length, actual.Length); i++)
        {
            if (expected[i] != actual[i])
                return $"class {i} is '{actual[i]}' there and '{expected[i]}' in the training data";
        }
        return expected.Length == actual.Length ? null : $"{actual.Length} classes there, {expected.Length} in the training data";
    }
}
