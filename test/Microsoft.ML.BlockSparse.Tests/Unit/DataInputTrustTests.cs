using Microsoft.ML.BlockSparse.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Damaged or inconsistent IDX files ("Trust, round two"): each is refused before training with a message
/// naming the file and what was expected, in the library, where any user of it would meet them.
/// </summary>
public class DataInputTrustTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private void WriteLabels(string prefix, int count)
        => File.WriteAllBytes(temp.File($"{prefix}-labels-idx1-ubyte"), TrustFiles.Idx([count], new byte[count]));

    [Fact]
    public void IdxHeaderWithZeroOrHugeSidesIsRefusedByName()
    {
        var images = temp.File("train-images-idx3-ubyte");
        File.WriteAllBytes(images, TrustFiles.Idx([0, 65536, 65536], []));
        WriteLabels("train", 0);
        TrustFiles.IdxSet(temp.File("unused"), [0], (1, 1), [0], (1, 1));
        foreach (var name in new[] { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" })
            File.Copy(Path.Combine(temp.File("unused"), name), temp.File(name));

        var huge = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains($"{images}: images of 65536x65536 pixels", huge.Message);

        File.WriteAllBytes(images, TrustFiles.Idx([2, 0, 28], []));
        var zero = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains($"{images}: images of 0x28 pixels", zero.Message);
    }

    [Fact]
    public void IdxFileLongerOrShorterThanItsHeaderIsRefused()
    {
        TrustFiles.IdxSet(temp.Path, [0, 1], (2, 2), [0], (2, 2));
        var images = temp.File("train-images-idx3-ubyte");
        File.WriteAllBytes(images, TrustFiles.Idx([2, 2, 2], new byte[8 + 3]));
        var longer = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains($"{images} has 3 bytes after the 8 its header describes (2 images of 2x2)", longer.Message);

        // A gzipped file whose header promises far more than it holds is refused before that much is allocated.
        File.Delete(images);
        File.WriteAllBytes(images + ".gz", TrustFiles.Gzip(TrustFiles.Idx([100000, 28, 28], new byte[10])));
        var truncated = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains($"{images}.gz unpacks to 26 bytes, but its IDX header describes 78400016 (100000 images of 28x28)", truncated.Message);
    }

    [Fact]
    public void DamagedGzipIsNamed()
    {
        TrustFiles.IdxSet(temp.Path, [0, 1], (2, 2), [0], (2, 2));
        var labels = temp.File("train-labels-idx1-ubyte");
        File.Delete(labels);
        // A gzip header, then a deflate block of the reserved type 3.
        File.WriteAllBytes(labels + ".gz", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 10, 0, 0, 0]);

        var e = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains($"{labels}.gz is a damaged gzip file", e.Message);
    }

    [Fact]
    public void IdxSetWithNoImagesIsADataErrorNamingTheFile()
    {
        TrustFiles.IdxSet(temp.Path, [], (28, 28), [0], (28, 28));
        var e = Assert.Throws<InvalidDataException>(() => IdxDataset.Load(temp.Path, train: true));
        Assert.Contains($"{temp.File("train-images-idx3-ubyte")} holds no images (its header says 0)", e.Message);
    }
}
