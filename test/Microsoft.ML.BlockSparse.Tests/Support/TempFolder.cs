namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>A fresh folder for one test, deleted with everything in it afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("blocksparse-test-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
