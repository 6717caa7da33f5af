using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Decodes encoded image bytes (PNG, JPEG, BMP, GIF, WebP; Model Builder's <c>ImageSource</c> column, or what
/// <c>LoadRawImageBytes</c> reads) into an <see cref="MLImage"/>, the one step between bytes and ML.NET's own
/// <c>ResizeImages</c>/<c>ExtractPixels</c> that ML.NET 5 lacks (<c>LoadImages</c> takes only file paths).
/// </summary>
/// <remarks>
/// ML.NET re-creates a custom mapping from its contract name alone when it loads a saved model, so the mapping
/// has no parameters and its columns have fixed names (<see cref="BytesColumnName"/> in, <see cref="ImageColumnName"/>
/// out); the trainer copies the user's column to <see cref="BytesColumnName"/> first and leaves the shape to
/// <c>ResizeImages</c> and <c>ExtractPixels</c>, which save their own settings. Before decoding, the bytes are checked
/// with <see cref="ImageFileCheck"/>: an image that is not one, is truncated, or declares more than
/// <see cref="ImageFileCheck.MaxPixels"/> pixels is refused before a decoder allocates it.
/// A process that loads such a model registers this assembly, as for <see cref="ArgMaxMapping"/>.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ImageDecodingMapping : CustomMappingFactory<ImageDecodingMapping.EncodedRow, ImageDecodingMapping.DecodedRow>
{
    /// <summary>The name under which saved models refer to this mapping.</summary>
    public const string ContractName = "Microsoft.ML.BlockSparse.DecodeImage";

    /// <summary>The working column the encoded bytes are copied to before decoding.</summary>
    public const string BytesColumnName = "BlockSparse.ImageBytes";

    /// <summary>The working column that holds the decoded image.</summary>
    public const string ImageColumnName = "BlockSparse.Image";

    /// <summary>Input row: the encoded image.</summary>
    public sealed class EncodedRow
    {
        /// <summary>The image file's bytes.</summary>
        [ColumnName(BytesColumnName)]
        public byte[] Bytes { get; set; } = [];
    }

    /// <summary>Output row: the decoded image.</summary>
    public sealed class DecodedRow
    {
        /// <summary>The decoded image, of any size (ResizeImages makes it the model's).</summary>
        /// <remarks>
        /// The column's type declares a nominal 1x1 size: ML.NET 5's size-less <c>[ImageType]</c> fails ("Must be
        /// positive", it builds an <c>ImageDataViewType(0, 0)</c>). Nothing reads the declared size: the transforms
        /// that follow (ConvertToGrayscale, ResizeImages) work on each image's own size.
        /// </remarks>
        [ColumnName(ImageColumnName)]
        [ImageType(1, 1)]
        public MLImage? Image { get; set; }
    }

    /// <summary>Decodes <paramref name="input"/>'s bytes into <paramref name="output"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are empty, not an image, truncated, too large, or cannot be decoded.</exception>
    public static void Map(EncodedRow input, DecodedRow output)
    {
        var bytes = input.Bytes ?? [];
        const string Subject = "An image in the encoded-image column";
        ImageFileCheck.Check(bytes, Subject);
        MLImage decoded;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            decoded = MLImage.CreateFromStream(stream);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException(
                $"{Subject} ({bytes.Length} bytes) cannot be decoded: its content is not a complete image in a format ML.NET reads ({e.Message}).", e);
        }
        // ML.NET reuses the output row; the previous image has been resized and extracted by then, as ML.NET's own
        // LoadImages disposes its previous image, so its native pixels go now rather than at some later GC.
        output.Image?.Dispose();
        output.Image = decoded;
    }

    /// <inheritdoc />
    public override Action<EncodedRow, DecodedRow> GetMapping() => Map;
}
