using System.Buffers.Binary;
using System.Globalization;

namespace Microsoft.ML.BlockSparse.Data;

/// <summary>What <see cref="ImageFileCheck.Check(string)"/> read from an image file's header.</summary>
/// <param name="Format">PNG, JPEG, BMP, GIF or WebP.</param>
/// <param name="Width">Width in pixels, as the header declares it.</param>
/// <param name="Height">Height in pixels, as the header declares it.</param>
public readonly record struct ImageFileInfo(string Format, int Width, int Height);

/// <summary>
/// Checks an image file from its header and its end, without decoding it: that it is a PNG, JPEG, BMP, GIF or
/// WebP file, that it is complete, and that its declared size is at most <see cref="MaxPixels"/>.
/// </summary>
/// <remarks>
/// ML.NET's <c>LoadImages</c> decodes with SkiaSharp, which accepts a file that ends early: it keeps the rows it
/// could decode and fills the rest, so a PNG cut to 60 bytes becomes a (mostly blank) image that is trained on and
/// scored without a word. Each format marks its end (PNG's IEND chunk, JPEG's end-of-image marker, GIF's trailer
/// byte) or states its length (BMP's pixel rows, WebP's RIFF size), which this check requires. The size is read
/// from the header (PNG IHDR, JPEG SOFn, BMP, GIF screen, WebP VP8/VP8L/VP8X) because a decoder allocates the
/// whole image (4 bytes a pixel) before anything can resize it: one 20000x20000 file took 5.8 GB.
/// </remarks>
public static class ImageFileCheck
{
    /// <summary>
    /// The most pixels an image may declare: 67,108,864 (8192x8192, 256 MiB once decoded at 4 bytes a pixel).
    /// Larger images are refused before decoding; shrink them first (they are resized to a few dozen pixels anyway).
    /// </summary>
    public const long MaxPixels = 8192L * 8192;

    // How far from the end an end marker is looked for: some writers pad a file after it.
    private const int TailBytes = 1024;

    /// <summary>Checks one file and returns its format and declared size.</summary>
    /// <exception cref="InvalidDataException">
    /// The file is empty, is not a PNG, JPEG, BMP, GIF or WebP image, is truncated, or declares more than
    /// <see cref="MaxPixels"/> pixels; the message names the file.
    /// </exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ImageFileInfo Check(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        return Check(stream, $"Image file '{path}'");
    }

    /// <summary>
    /// Checks encoded image bytes (a <c>byte[]</c> column such as Model Builder's <c>ImageSource</c>) as
    /// <see cref="Check(string)"/> checks a file.
    /// </summary>
    /// <param name="bytes">The encoded image.</param>
    /// <param name="subject">How messages name the image, for example <c>"Image in column 'ImageSource'"</c>.</param>
    /// <exception cref="InvalidDataException">As for <see cref="Check(string)"/>; the message starts with <paramref name="subject"/>.</exception>
    public static ImageFileInfo Check(ReadOnlyMemory<byte> bytes, string subject)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        using var stream = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);
        return Check(stream, subject);
    }

    private static ImageFileInfo Check(Stream stream, string subject)
    {
        long length = stream.Length;
        if (length == 0)
            throw new InvalidDataException($"{subject} is empty.");
        var head = new byte[(int)Math.Min(length, 64)];
        stream.ReadExactly(head);

        ImageFileInfo info;
        string? missingEnd;
        if (head.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]))
            (info, missingEnd) = Png(subject, stream, head);
        else if (head.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
            (info, missingEnd) = Jpeg(subject, stream);
        else if (head.AsSpan().StartsWith("BM"u8))
            (info, missingEnd) = Bmp(subject, length, head);
        else if (head.AsSpan().StartsWith("GIF87a"u8) || head.AsSpan().StartsWith("GIF89a"u8))
            (info, missingEnd) = Gif(subject, stream, head);
        else if (head.Length >= 12 && head.AsSpan().StartsWith("RIFF"u8) && head.AsSpan(8, 4).SequenceEqual("WEBP"u8))
            (info, missingEnd) = WebP(subject, length, head);
        else
            throw new InvalidDataException($"{subject} is not a readable image: it starts with bytes {Convert.ToHexString(head.AsSpan(0, Math.Min(head.Length, 12)))}, which no PNG, JPEG, BMP, GIF or WebP file does.");

        CheckSize(subject, info);
        if (missingEnd is not null)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{subject} is truncated: {missingEnd} ({length} bytes). Replace or remove it."));
        return info;
    }

    private static void CheckSize(string subject, ImageFileInfo info)
    {
        long pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new InvalidDataException($"{subject} declares a size of {info.Width}x{info.Height} pixels: its {info.Format} header is damaged.");
        if (pixels > MaxPixels)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{subject} is {info.Width}x{info.Height} pixels ({pixels:N0}); images may have at most {MaxPixels:N0} pixels (8192x8192), because each is decoded whole before it is resized. Shrink it or remove it."));
        }
    }

    private static (ImageFileInfo, string?) Png(string subject, Stream stream, byte[] head)
    {
        // Signature, then the IHDR chunk: length 13, "IHDR", width and height big-endian.
        if (head.Length < 24 || !head.AsSpan(12, 4).SequenceEqual("IHDR"u8))
            throw new InvalidDataException($"{subject} is not a complete PNG: it has no IHDR header after its signature.");
        var info = new ImageFileInfo("PNG", BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(20)));
        // The IEND chunk: length 0, "IEND", and its fixed CRC.
        ReadOnlySpan<byte> iend = [0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82];
        return (info, Tail(stream).AsSpan().IndexOf(iend) < 0 ? "the PNG has no IEND chunk at its end" : null);
    }

    private static (ImageFileInfo, string?) Jpeg(string subject, Stream stream)
    {
        // Walk the marker segments from SOI to the frame header (SOFn: precision, height, width) and on to the
        // start of scan; a file that ends before the scan is cut short.
        ImageFileInfo? info = null;
        long position = 2;
        Span<byte> segment = stackalloc byte[7];
        while (true)
        {
            stream.Position = position;
            int marker;
            do
            {
                marker = stream.ReadByte();
            }
            while (marker == 0xFF);
            if (marker < 0 || stream.ReadAtLeast(segment[..2], 2, throwOnEndOfStream: false) < 2)
                return (info ?? new ImageFileInfo("JPEG", 1, 1), "the JPEG ends before its image data");
            int segmentLength = BinaryPrimitives.ReadUInt16BigEndian(segment);
            bool frame = marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);
            if (frame && stream.ReadAtLeast(segment[2..7], 5, throwOnEndOfStream: false) == 5)
                info = new ImageFileInfo("JPEG", BinaryPrimitives.ReadUInt16BigEndian(segment[5..]), BinaryPrimitives.ReadUInt16BigEndian(segment[3..]));
            if (marker == 0xDA)
                break;
            position = stream.Position - (frame ? 7 : 2) + segmentLength;
        }
        if (info is null)
            throw new InvalidDataException($"{subject} is not a complete JPEG: it has no frame header (SOFn) before its image data.");
        long scan = stream.Position;
        var tail = Tail(stream);
        long tailStart = stream.Length - tail.Length;
        // The end-of-image marker FFD9 cannot occur inside the entropy-coded data (an FF there is followed by 00 or a restart marker).
        int eoi = tail.AsSpan().LastIndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]);
        return (info.Value, eoi < 0 || tailStart + eoi < scan ? "the JPEG has no end-of-image marker (FFD9) at its end" : null);
    }

    private static (ImageFileInfo, string?) Bmp(string subject, long length, byte[] head)
    {
        // File header (14 bytes: "BM", file size, reserved, pixel offset), then the DIB header: 12 bytes
        // (OS/2: 16-bit sides) or 40 and more (32-bit sides, height negative when top-down).
        if (head.Length < 26)
            throw new InvalidDataException($"{subject} is not a complete BMP: its headers need 26 bytes, the file has {length}.");
        int dibSize = BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(14));
        bool core = dibSize == 12;
        if (!core && head.Length < 34)
            throw new InvalidDataException($"{subject} is not a complete BMP: its headers need 34 bytes, the file has {length}.");
        int width = core ? BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(18)) : BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(18));
        int height = core ? BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(20)) : BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(22));
        height = height == int.MinValue ? 0 : Math.Abs(height);
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(core ? 24 : 28));
        int compression = core ? 0 : BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(30));
        var info = new ImageFileInfo("BMP", width, height);
        long required;
        if (compression is 0 or 3)   // uncompressed rows (BI_RGB, BI_BITFIELDS), each padded to 4 bytes
            required = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(10)) + ((long)bitsPerPixel * width + 31) / 32 * 4 * height;
        else
            required = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(2));
        return (info, length < required ? string.Create(CultureInfo.InvariantCulture, $"the BMP header describes {required} bytes") : null);
    }

    private static (ImageFileInfo, string?) Gif(string subject, Stream stream, byte[] head)
    {
        if (head.Length < 10)
            throw new InvalidDataException($"{subject} is not a complete GIF: it ends inside its screen descriptor.");
        var info = new ImageFileInfo("GIF", BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(6)), BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8)));
        // The last byte is the trailer 3B; zero padding after it is tolerated.
        var tail = Tail(stream).AsSpan().TrimEnd((byte)0);
        return (info, tail.IsEmpty || tail[^1] != 0x3B ? "the GIF has no trailer byte (3B) at its end" : null);
    }

    private static (ImageFileInfo, string?) WebP(string subject, long length, byte[] head)
    {
        long riff = 8L + BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(4));
        var chunk = head.Length >= 16 ? head.AsSpan(12, 4) : [];
        ImageFileInfo info;
        if (chunk.SequenceEqual("VP8 "u8) && head.Length >= 30)
            info = new("WebP", BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(26)) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(28)) & 0x3FFF);
        else if (chunk.SequenceEqual("VP8L"u8) && head.Length >= 25)
        {
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(21));
            info = new("WebP", (int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        else if (chunk.SequenceEqual("VP8X"u8) && head.Length >= 30)
            info = new("WebP", 1 + (head[24] | head[25] << 8 | head[26] << 16), 1 + (head[27] | head[28] << 8 | head[29] << 16));
        else
            throw new InvalidDataException($"{subject} is not a complete WebP: it has no VP8, VP8L or VP8X header.");
        return (info, length < riff ? string.Create(CultureInfo.InvariantCulture, $"the WebP's RIFF header describes {riff} bytes") : null);
    }

    private static byte[] Tail(Stream stream)
    {
        var tail = new byte[(int)Math.Min(stream.Length, TailBytes)];
        stream.Position = stream.Length - tail.Length;
        stream.ReadExactly(tail);
        return tail;
    }
}
