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
        var imagesPath = Resolve(folder, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Resolve(folder, $"{prefix}-labels-idx1-ubyte");
        var (images, rows, columns) = ReadImages(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (images.Length / (rows * columns) != labels.Length)
            throw new InvalidDataException($"{imagesPath} holds {images.Length / (rows * columns)} images but {labelsPath} holds {labels.Length} labels; they must match.");

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

    /// <summary>Rows and columns of the images of the training (<paramref name="train"/> true) or test split, read from the header alone.</summary>
    /// <inheritdoc cref="Load" path="/exception"/>
    public static (int Rows, int Columns) ImageSize(string folder, bool train)
    {
        CheckFolder(folder);
        var path = Resolve(folder, $"{(train ? "train" : "t10k")}-images-idx3-ubyte");
        using var stream = Open(path);
        var dims = ReadHeader(stream, path, expectedDimensions: 3);
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

    private static string Resolve(string folder, string name)
    {
        var plain = Path.Combine(folder, name);
        return File.Exists(plain) ? plain : plain + ".gz";
    }

    private static Stream Open(string path)
    {
        Stream file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    private static (byte[] Pixels, int Rows, int Columns) ReadImages(string path)
    {
        using var stream = Open(path);
        var dims = ReadHeader(stream, path, expectedDimensions: 3);
        long total = (long)dims[0] * dims[1] * dims[2];
        if (dims[1] == 0 || dims[2] == 0 || total > int.MaxValue)
            throw new InvalidDataException($"{path}: image size {dims[1]}x{dims[2]} with {dims[0]} images is not usable.");
        return (ReadBody(stream, path, (int)total), dims[1], dims[2]);
    }

    private static byte[] ReadLabels(string path)
    {
        using var stream = Open(path);
        var dims = ReadHeader(stream, path, expectedDimensions: 1);
        return ReadBody(stream, path, dims[0]);
    }

    // Header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then
    // each dimension as a big-endian int32.
    private static int[] ReadHeader(Stream stream, string path, int expectedDimensions)
    {
        Span<byte> magic = stackalloc byte[4];
        if (!TryFill(stream, magic))
            throw new InvalidDataException($"{path} is too short to be an IDX file (it has no 4-byte header).");
        if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08)
            throw new InvalidDataException($"{path} is not an IDX file of unsigned bytes: its header starts {Convert.ToHexString(magic)}, expected 000008{expectedDimensions:X2}.");
        if (magic[3] != expectedDimensions)
            throw new InvalidDataException($"{path} has {magic[3]} dimensions; expected {expectedDimensions} ({(expectedDimensions == 3 ? "images × rows × columns" : "labels")}).");
        var dims = new int[expectedDimensions];
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!TryFill(stream, word))
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
        if (!TryFill(stream, body))
            throw new InvalidDataException($"{path} is truncated: its header promises {length} bytes of data.");
        return body;
    }

    private static bool TryFill(Stream stream, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0)
                return false;
            read += n;
        }
        return true;
    }
}
