using System.IO.Compression;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// A model zip whose bytes changed after saving is refused by <see cref="BlockSparseModelFile.Load"/>,
/// although .NET 10's ZipArchive reads it without complaint.
/// </summary>
public class ModelIntegrityTests : IDisposable
{
    private readonly MLContext ml = new(1);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private IDataView Data() => TinyClassifier.Data(ml);

    private string SavedModel() => TinyClassifier.Save(ml, temp.File("model.zip"), hidden: 16);

    [Fact]
    public void OneFlippedBitInTheOnnxEntryIsRefusedNamingTheFileAndTheEntry()
    {
        var good = SavedModel();
        var bytes = File.ReadAllBytes(good);
        var onnx = ZipBytes.Entries(bytes).Single(e => e.Name.Contains("Onnx", StringComparison.OrdinalIgnoreCase));
        var damaged = temp.File("flipped.zip");

        // .NET 10's ZipArchive does not compare an entry's CRC-32 with its data (that came in .NET 11): a bit
        // flipped in the compressed data often still inflates to the end without an error. Which bits do depends
        // on the compressed bytes, so take the first from the middle on that does.
        bool ReadsWithoutError(int offset)
        {
            var flipped = (byte[])bytes.Clone();
            flipped[offset] ^= 0x08;
            File.WriteAllBytes(damaged, flipped);
            try
            {
                using var archive = ZipFile.OpenRead(damaged);
                using var content = archive.GetEntry(onnx.Name)!.Open();
                content.CopyTo(Stream.Null);
                return true;
            }
            catch (InvalidDataException)
            {
                return false;
            }
        }
        var start = (int)(onnx.DataOffset + onnx.CompressedLength / 2);
        Assert.Contains(Enumerable.Range(start, (int)(onnx.CompressedLength / 4)), ReadsWithoutError);

        var e = Assert.Throws<InvalidDataException>(() => BlockSparseModelFile.Load(new MLContext(), damaged, out _));
        Assert.Contains($"Model file '{damaged}' is corrupted: its entry '{onnx.Name}' does not match the CRC-32 checksum", e.Message);

        // The undamaged file still loads and scores.
        var loaded = BlockSparseModelFile.Load(new MLContext(), good, out _);
        Assert.Equal(30, loaded.Transform(Data()).GetColumn<float[]>("Score").Count());
    }
}
