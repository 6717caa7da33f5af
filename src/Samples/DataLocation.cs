namespace Samples;

/// <summary>Where build/setup.sh caches MNIST, so the sample finds it without --data.</summary>
internal static class DataLocation
{
    public static string DefaultMnistFolder
        => Environment.GetEnvironmentVariable("BLOCKSPARSE_DATA") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "blocksparse", "mnist");
}
