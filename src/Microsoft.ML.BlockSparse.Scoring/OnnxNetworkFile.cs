using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.BlockSparse.ModelFiles;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// The ONNX network inside a saved BlockSparse model zip, as a standalone ONNX model that ONNX Runtime (from any
/// language) or an ONNX serving engine can run: input = the feature column (float vector), output <c>Score</c>
/// (softmax class probabilities, in the order of the label's key values).
/// </summary>
/// <remarks>
/// ML.NET keeps no public accessor for the bytes an <c>OnnxTransformer</c> was built from, and
/// <c>mlContext.Model.ConvertToOnnx</c> cannot export the arg-max custom mapping that follows the network.
/// The transformer saves its network as the zip entry <c>…/OnnxModel</c>: a 32-bit little-endian length, then the
/// ONNX bytes; this reads that entry and checks its framing. A process that still has the trained
/// <c>BlockSparseModel</c> can call its <c>SaveOnnx</c> instead.
/// </remarks>
public static class OnnxNetworkFile
{
    private const string EntryName = "OnnxModel";

    /// <summary>Reads the ONNX network bytes from the model zip at <paramref name="modelPath"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a complete, undamaged zip, holds no ONNX network or more than one, or the entry is not framed as ML.NET writes it.
    /// </exception>
    public static byte[] Read(string modelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"Model file '{modelPath}' does not exist.", modelPath);
        ZipIntegrity.Check(modelPath);
        using var archive = ZipFile.OpenRead(modelPath);
        var entries = archive.Entries.Where(e => e.Name == EntryName).ToList();
        if (entries.Count != 1)
            throw new InvalidDataException(
                $"Model file '{modelPath}' holds {entries.Count} ONNX networks (zip entries named '{EntryName}'); expected exactly one, as a BlockSparse model saved with mlContext.Model.Save has.");
        var entry = entries[0];
        using var content = entry.Open();
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        var bytes = copy.GetBuffer().AsSpan(0, (int)copy.Length);
        if (bytes.Length < 4 || BinaryPrimitives.ReadInt32LittleEndian(bytes) is var length && length != bytes.Length - 4)
            throw new InvalidDataException(
                $"Model file '{modelPath}': entry '{entry.FullName}' is not framed as ML.NET's OnnxTransformer writes it (a 32-bit length, then that many bytes of ONNX).");
        return bytes[4..].ToArray();
    }

    /// <summary>Writes the ONNX network of the model zip at <paramref name="modelPath"/> to <paramref name="destination"/>.</summary>
    /// <returns>The number of bytes written.</returns>
    /// <inheritdoc cref="Read(string)" path="/exception"/>
    public static int Export(string modelPath, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var bytes = Read(modelPath);
        destination.Write(bytes);
        return bytes.Length;
    }
}
