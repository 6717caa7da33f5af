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

    private sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    private IDataView Data() => ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new Row
    {
        Label = ((char)('a' + i % 3)).ToString(),
        Features = [i % 3, 1, 0, 1],
    }));

    private string SavedModel()
    {
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(new BlockSparseTrainer.Options { HiddenLayers = [16], Epochs = 1, Device = ComputeDevice.Cpu }))
            .Fit(Data());
        var path = temp.File("model.zip");
        ml.Model.Save(model, Data().Schema, path);
        return path;
    }

    [Fact]
    public void OneFlippedBitInTheOnnxEntryIsRefusedNamingTheFileAndTheEntry()
    {
        var good = SavedModel();
        var bytes = File.ReadAllBytes(good);
        var onnx = ZipBytes.Entries(bytes).Single(e => e.Name.Contains("Onnx", StringComparison.OrdinalIgnoreCase));
        var damaged = temp.File("flipped.zip");
        var flipped = (byte[])bytes.Clone();
        flipped[onnx.DataOffset + onnx.CompressedLength / 2] ^= 0x08;
        File.WriteAllBytes(damaged, flipped);

        // .NET 10's ZipArchive does not compare an entry's CRC-32 with its data (that came in .NET 11):
        // the damaged entry reads to the end without an error.
        using (var archive = ZipFile.OpenRead(damaged))
        using (var content = archive.GetEntry(onnx.Name)!.Open())
            content.CopyTo(Stream.Null);

        var e = Assert.Throws<InvalidDataException>(() => BlockSparseModelFile.Load(new MLContext(), damaged, out _));
        Assert.Contains($"Model file '{damaged}' is corrupted: its entry '{onnx.Name}' does not match the CRC-32 checksum", e.Message);

        // The undamaged file still loads and scores.
        var loaded = BlockSparseModelFile.Load(new MLContext(), good, out _);
        Assert.Equal(30, loaded.Transform(Data()).GetColumn<float[]>("Score").Count());
    }
}
