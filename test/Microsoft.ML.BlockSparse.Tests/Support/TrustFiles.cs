using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Writes the small IDX and image files the data-trust tests feed the library and the sample.</summary>
internal static class TrustFiles
{
    /// <summary>An IDX file of unsigned bytes: the header for <paramref name="dims"/>, then <paramref name="body"/>.</summary>
    public static byte[] Idx(int[] dims, byte[] body)
    {
        var bytes = new byte[4 + 4 * dims.Length + body.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        body.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    /// <summary>Writes the four files of an IDX set: <paramref name="trainLabels"/> and <paramref name="testLabels"/> with images of the given sizes.</summary>
    public static void IdxSet(string folder, byte[] trainLabels, (int Rows, int Columns) trainSize, byte[] testLabels, (int Rows, int Columns) testSize)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(3);
        void Write(string prefix, byte[] labels, (int Rows, int Columns) size)
        {
            // Pixels that depend on the label, so the classes are learnable at all.
            var pixels = labels.SelectMany(l => Enumerable.Range(0, size.Rows * size.Columns).Select(j => (byte)((j * (l + 1) + random.Next(16)) % 256))).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), Idx([labels.Length, size.Rows, size.Columns], pixels));
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), Idx([labels.Length], labels));
        }
        Write("train", trainLabels, trainSize);
        Write("t10k", testLabels, testSize);
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest))
            gzip.Write(bytes);
        return memory.ToArray();
    }

    /// <summary>A real PNG of <paramref name="width"/> x <paramref name="height"/> with varied pixels, as ML.NET writes it.</summary>
    public static void Png(string path, int width, int height, int seed = 0)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var random = new Random(seed);
        var rgba = new byte[width * height * 4];
        random.NextBytes(rgba);
        for (int i = 3; i < rgba.Length; i += 4)
            rgba[i] = 255;
        using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
        image.Save(path);
    }

    /// <summary>
    /// A well-formed PNG header (signature and IHDR with a correct CRC) declaring <paramref name="width"/> x
    /// <paramref name="height"/>, then an IEND chunk: small on disk, huge once decoded.
    /// </summary>
    public static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // RGB
        return [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, .. Chunk("IHDR", ihdr), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        typed.CopyTo(chunk, 4);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(typed));
        return chunk;
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
