using System.Globalization;

namespace Samples;

/// <summary>
/// <c>--name value</c> and <c>--flag</c> arguments. Unknown names are errors, so a typo does not
/// silently train with defaults.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var name = e.Current;
            if (flags.Contains(name))
                values[name] = null;
            else if (valueOptions.Contains(name))
                values[name] = e.MoveNext() ? e.Current : throw new UsageException($"{name} needs a value.");
            else
                throw new UsageException($"Unknown argument '{name}'. Known: {string.Join(", ", valueOptions.Concat(flags).Order())}.");
        }
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string? Text(string name) => values.GetValueOrDefault(name);

    public int? Int(string name, int min = int.MinValue)
    {
        if (values.GetValueOrDefault(name) is not { } text)
            return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new UsageException($"{name} must be an integer of at least {min}; got '{text}'.");
        return value;
    }

    public double? Double(string name, double min)
    {
        if (values.GetValueOrDefault(name) is not { } text)
            return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value < min)
            throw new UsageException($"{name} must be a number of at least {min.ToString(CultureInfo.InvariantCulture)}; got '{text}'.");
        return value;
    }

    public int[]? IntList(string name, int min)
    {
        if (values.GetValueOrDefault(name) is not { } text)
            return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]) || result[i] < min)
                throw new UsageException($"{name} must be integers of at least {min} separated by commas (like 300,100); got '{text}'.");
        }
        return result;
    }
}

/// <summary>A mistake on the command line: printed with the usage text, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
