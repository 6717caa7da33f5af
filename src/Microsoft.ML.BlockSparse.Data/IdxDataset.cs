using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.Data;

/// <summary>One row of an IDX image data set, as ML.NET reads it.</summary>
public sealed class IdxImage
{
    /// <summary>The class, as text ("0" … "9" for MNIST), ready for <c>MapValueToKey</c>.</summary>
    public string Label { get; set; } = "";

    /// <summary>Pixels row by row, scaled to [0, 1].</summary>
    public float[] Pixels { get; set; } = Array.Empty<float>();
}

/// <summary>
/// Reads data sets in the IDX format of MNIST (<c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>,
/// each optionally gzipped as <c>.gz</c>). Any data set of unsigned-byte images in that format works.
/// </summary>
public static class IdxDataset
{
    /// <summary>The four file names of a data set folder.</summary>
    public static readonly IReadOnlyList<string> FileNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>Reads the training (<paramref name="train"/> true) or test split of the folder.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the four files is missing (plain or .gz).</exception>
    /// <exception cref="InvalidDataException">A file is not a well-formed IDX file of the expected kind.</exception>
    public static IReadOnlyList<IdxImage> Load(string folder, bool train, int? maxRows = null)
    {
        CheckFolder(folder);
        string prefix = train ? "train" : "t10k";
        var imagesPath = FilePath(folder, $"{prefix}-images-idx3-ubyte");
        var labelsPath = FilePath(folder, $"{prefix}-labels-idx1-ubyte");
        var (images, imageCount, rows, columns) = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (imageCount != labels.Length)
            throw new InvalidDataException($"{imagesPath} holds {imageCount} images but {labelsPath} holds {labels.Length} labels; they must match.");

        int count = Math.Min(labels.Length, maxRows ?? int.MaxValue);
        int size = rows * columns;
        var result = new IdxImage[count];
        for (int i = 0; i < count; i++)
        {
            var pixels = new float[size];
            for (int j = 0; j < size; j++)
                pixels[j] = images[i * size + j] / 255f;
            result[i] = new IdxImage { Label = labels[i].ToString(System.Globalization.CultureInfo.InvariantCulture), Pixels = pixels };
        }
        return result;
    }

    /// <summary>
    /// The labels of the training (<paramref name="train"/> true) or test split, as the <see cref="IdxImage.Label"/>
    /// texts <see cref="Load"/> gives, without reading the images.
    /// </summary>
    /// <inheritdoc cref="Load" path="/exception"/>
    public static IReadOnlyList<string> LoadLabels(string folder, bool train, int? maxRows = null)
    {
        CheckFolder(folder);
        var labels = ReadLabels(FilePath(folder, $"{(train ? "train" : "t10k")}-labels-idx1-ubyte"));
        return labels.Take(maxRows ?? int.MaxValue).Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>
    /// The path of one of the <see cref="FileNames"/> in <paramref name="folder"/>: the plain file when it
    /// exists, else the <c>.gz</c> one (which may not exist either), for naming it in messages.
    /// </summary>
    public static string FilePath(string folder, string fileName)
    {
        var plain = Path.Combine(folder, fileName);
        return File.Exists(plain) ? plain : plain + ".gz";
    }

    /// <summary>Rows and columns of the images of the training (<paramref name="train"/> true) or test split, read from the header alone.</summary>
    /// <inheritdoc cref="Load" path="/exception"/>
    public static (int Rows, int Columns) ImageSize(string folder, bool train)
    {
        CheckFolder(folder);
        var path = FilePath(folder, $"{(train ? "train" : "t10k")}-images-idx3-ubyte");
        using var stream = Open(path);
        var dims = ReadHeader(stream, path, expectedDimensions: 3);
        CheckImageSize(path, dims[1], dims[2]);
        return (dims[1], dims[2]);
    }

    /// <summary>
    /// The rows as an <see cref="IDataView"/> with columns <c>Label</c> (text) and <c>Pixels</c>
    /// (a vector of <see cref="float"/> whose known size trainers need).
    /// </summary>
    public static IDataView ToDataView(MLContext mlContext, IReadOnlyList<IdxImage> rows)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(rows);
        return mlContext.Data.LoadFromEnumerable(rows, Schema(rows.Count > 0 ? rows[0].Pixels.Length : 0));
    }

    /// <summary>
    /// The schema of <see cref="IdxImage"/> with <c>Pixels</c> of known size <paramref name="pixels"/>,
    /// for <see cref="ToDataView"/> and for <c>CreatePredictionEngine</c>'s <c>inputSchemaDefinition</c>.
    /// </summary>
    public static SchemaDefinition Schema(int pixels)
    {
        var schema = SchemaDefinition.Create(typeof(IdxImage));
        schema[nameof(IdxImage.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, pixels);
        return schema;
    }

    /// <summary>Throws unless <paramref name="folder"/> holds all four files, naming the missing ones.</summary>
    public static void CheckFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Data folder '{folder}' does not exist.");
        var missing = FileNames.Where(f => !File.Exists(Path.Combine(folder, f)) && !File.Exists(Path.Combine(folder, f + ".gz"))).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException(
                $"Data folder '{folder}' lacks {string.Join(", ", missing)} (plain or .gz). An IDX data set needs all of: {string.Join(", ", FileNames)}.",
                Path.Combine(folder, missing[0]));
        }
    }

    private static Stream Open(string path)
    {
        Stream file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        using var stream = Open(path);
        var dims = ReadHeader(stream, path, expectedDimensions: 3);
        var (count, rows, columns) = (dims[0], dims[1], dims[2]);
        CheckImageSize(path, rows, columns);
        if (count == 0)
            throw new InvalidDataException($"{path} holds no images (its header says 0); each split of an IDX data set needs at least one image.");
        long total = (long)count * rows * columns;
        string described = $"{count} images of {rows}x{columns}";
        if (total > Array.MaxLength)
            throw new InvalidDataException($"{path}: {described} are {total:N0} bytes, more than one array holds ({Array.MaxLength:N0}).");
        CheckLength(path, 16, total, described);
        return (ReadBody(stream, path, (int)total), count, rows, columns);
    }

    // Zero sides would divide by zero further on, and absurd ones ask for gigabytes: both are damaged headers.
    private static void CheckImageSize(string path, int rows, int columns)
    {
        if (rows == 0 || columns == 0 || (long)rows * columns > ImageFileCheck.MaxPixels)
        {
            throw new InvalidDataException(
                $"{path}: images of {rows}x{columns} pixels (rows x columns) are not usable; each side must be at least 1 and an image "
                + $"at most {ImageFileCheck.MaxPixels:N0} pixels. The header is damaged or the file is not an image set.");
        }
    }

    private static byte[] ReadLabels(string path)
    {
        using var stream = Open(path);
        var dims = ReadHeader(stream, path, expectedDimensions: 1);
        CheckLength(path, 8, dims[0], $"{dims[0]} labels");
        return ReadBody(stream, path, dims[0]);
    }

    // The file must hold exactly what its header describes: fewer bytes is a cut file, more is a wrong header.
    // For .gz the gzip trailer's size field (the unpacked length modulo 2^32) is checked, so a damaged header
    // is caught before its promised size is allocated.
    private static void CheckLength(string path, int headerBytes, long bodyBytes, string described)
    {
        long expected = headerBytes + bodyBytes;
        long length = new FileInfo(path).Length;
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            if (length < 18)
                throw new InvalidDataException($"{path} is a damaged gzip file: {length} bytes is too short for a gzip header and trailer.");
            using var file = File.OpenRead(path);
            Span<byte> trailer = stackalloc byte[4];
            file.Seek(-4, SeekOrigin.End);
            file.ReadExactly(trailer);
            uint unpacked = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            if (unpacked != (uint)expected)
            {
                throw new InvalidDataException(
                    $"{path} unpacks to {unpacked} bytes, but its IDX header describes {expected} ({described}): the file is truncated or damaged.");
            }
        }
        else if (length < expected)
        {
            throw new InvalidDataException($"{path} is truncated: its header promises {bodyBytes} bytes of data ({described}), but the file has {length - headerBytes}.");
        }
        else if (length > expected)
        {
            throw new InvalidDataException(
                $"{path} has {length - expected} bytes after the {bodyBytes} its header describes ({described}); the header or the file is wrong.");
        }
    }

    // Header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then
    // each dimension as a big-endian int32.
    private static int[] ReadHeader(Stream stream, string path, int expectedDimensions)
    {
        Span<byte> magic = stackalloc byte[4];
        if (!TryFill(stream, magic, path))
            throw new InvalidDataException($"{path} is too short to be an IDX file (it has no 4-byte header).");
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08)
            throw new InvalidDataException($"{path} is not an IDX file of unsigned bytes: its header starts {Convert.ToHexString(magic)}, expected 000008{expectedDimensions:X2}.");
        if (magic[3] != expectedDimensions)
            throw new InvalidDataException($"{path} has {magic[3]} dimensions; expected {expectedDimensions} ({(expectedDimensions == 3 ? "images × rows × columns" : "labels")}).");
        var dims = new int[expectedDimensions];
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!TryFill(stream, word, path))
                throw new InvalidDataException($"{path}: header ends before dimension {i + 1} of {expectedDimensions}.");
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[i] < 0)
                throw new InvalidDataException($"{path}: dimension {i + 1} is negative ({dims[i]}).");
        }
        return dims;
    }

    private static byte[] ReadBody(Stream stream, string path, int length)
    {
        var body = new byte[length];
        if (!TryFill(stream, body, path))
            throw new InvalidDataException($"{path} is truncated: its header promises {length} bytes of data.");
        return body;
    }

    private static bool TryFill(Stream stream, Span<byte> buffer, string path)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = stream.Read(buffer[read..]);
            }
            catch (InvalidDataException e) when (stream is GZipStream)
            {
                // .NET's inflater names neither the file nor gzip ("unsupported compression method").
                throw new InvalidDataException($"{path} is a damaged gzip file: {e.Message} Fetch or compress it again.", e);
            }
            if (n == 0)
                return false;
            read += n;
        }
        return true;
    }
}
