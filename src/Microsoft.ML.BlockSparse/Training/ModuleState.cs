using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// A module's whole state by name: every parameter and every buffer (gate masks, and whatever
/// buffers layers add later). Checkpoints and early stopping go through this, so they never need to
/// know a layer's fields.
/// </summary>
internal static class ModuleState
{
    /// <summary>Parameters, then buffers, by their registered names.</summary>
    public static IEnumerable<(string Name, Tensor Value)> Entries(nn.Module module)
        => module.named_parameters().Select(p => (p.name, (Tensor)p.parameter))
            .Concat(module.named_buffers().Select(b => (b.name, b.buffer)));

    /// <summary>Detached copies of every entry, on <paramref name="device"/> (the module's own device if null).</summary>
    public static Dictionary<string, Tensor> Copy(nn.Module module, Device? device = null)
    {
        using var _ = no_grad();
        return Entries(module).ToDictionary(e => e.Name, e => CopyOf(e.Value, device), StringComparer.Ordinal);
    }

    private static Tensor CopyOf(Tensor value, Device? device)
    {
        using var detached = value.detach();
        return device is null ? detached.clone() : detached.to(device, copy: true);
    }

    /// <summary>
    /// Copies <paramref name="values"/> into the module in place (so optimiser references stay valid).
    /// The names, shapes and element types must match exactly: a state of another network is refused,
    /// naming <paramref name="source"/> and every difference.
    /// </summary>
    public static void Restore(nn.Module module, IReadOnlyDictionary<string, Tensor> values, string source)
    {
        var entries = Entries(module).ToList();
        var problems = new List<string>();
        foreach (var (name, value) in entries)
        {
            if (!values.TryGetValue(name, out var saved))
                problems.Add($"it lacks '{name}'");
            else if (!saved.shape.SequenceEqual(value.shape) || saved.dtype != value.dtype)
                problems.Add($"'{name}' is {Describe(saved)} there and {Describe(value)} here");
        }
        var known = entries.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(values.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal).Select(k => $"it has '{k}', which this network does not"));
        if (problems.Count > 0)
            throw new InvalidDataException($"{source} does not fit this network: {string.Join("; ", problems)}.");

        using (no_grad())
        {
            foreach (var (name, value) in entries)
                value.copy_(values[name]);
        }
        // Which candidate block shapes are live is state too (a buffer); the layers keep a host copy.
        foreach (var layer in module.modules().OfType<Layers.KroneckerLinear>())
            layer.SyncCandidatesFromBuffer();
    }

    private static string Describe(Tensor t) => $"{t.dtype} [{string.Join(", ", t.shape)}]";
}
