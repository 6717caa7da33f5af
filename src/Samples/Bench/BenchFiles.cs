using System.Text.Json;

namespace Samples.Bench;

/// <summary>What every bench mode shares: the median of its timed samples, and its JSON file (camelCase, indented).</summary>
internal static class BenchFiles
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Writes <paramref name="value"/> as JSON through <see cref="OutputFile.Write"/> (replacing a file says so).</summary>
    public static void WriteJson<T>(string path, T value)
        => OutputFile.Write(path, temporary => File.WriteAllText(temporary, JsonSerializer.Serialize(value, JsonOptions)));

    /// <summary>The median; of an even count, the mean of the middle two.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            throw new ArgumentException("No samples to take the median of.", nameof(values));
        int half = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }
}
