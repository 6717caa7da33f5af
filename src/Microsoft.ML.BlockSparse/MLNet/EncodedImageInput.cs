using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// A feature column of encoded image bytes (<c>VarVector&lt;Byte&gt;</c>: Model Builder's <c>ImageSource</c>, or what
/// <c>LoadRawImageBytes</c> reads) becomes pixels through ML.NET transforms that the trainer puts in front of the
/// network, for training and in the saved model alike: copy the bytes to a working column →
/// <see cref="ImageDecodingMapping"/> (bytes → image) → <c>ConvertToGrayscale</c> (one channel only) →
/// <c>ResizeImages</c> → <c>ExtractPixels</c> → drop the working columns.
/// </summary>
/// <remarks>
/// Resizing is ML.NET's default, <c>IsoCrop</c> with a centre anchor: the image is scaled uniformly to cover
/// <c>height x width</c> and the overflow is cropped equally from both sides. Pixels are value / 255 in [0, 1],
/// plane by plane (R, G, B), as <c>ImagePipelines.Featurize</c> extracts them from image files, so a model sees
/// the same numbers whether it reads a file's path or its bytes.
/// </remarks>
internal static class EncodedImageInput
{
    /// <summary>The pixel column the network reads (and the ONNX input's name).</summary>
    public const string PixelColumnName = "BlockSparse.Pixels";

    /// <summary>The longest side a shape taken from the first image may have; larger images are scaled down to it.</summary>
    public const int DefaultMaxSide = 64;

    /// <summary>Whether the column holds encoded images: a vector of bytes.</summary>
    public static bool IsEncodedImages(DataViewType type) => type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Byte;

    /// <summary>The same test on a schema shape (pipeline validation).</summary>
    public static bool IsEncodedImages(SchemaShape.Column column)
        => column.Kind != SchemaShape.Column.VectorKind.Scalar && column.ItemType == NumberDataViewType.Byte && !column.IsKey;

    /// <summary>The transforms from <paramref name="featureColumnName"/>'s bytes to <see cref="PixelColumnName"/>'s pixels of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The shape has other than 1 or 3 channels.</exception>
    public static IEstimator<ITransformer> Decoding(MLContext context, string featureColumnName, ImageShape shape)
    {
        var colors = shape.Channels switch
        {
            1 => ImagePixelExtractingEstimator.ColorBits.Red,   // after ConvertToGrayscale all three are the grey value
            3 => ImagePixelExtractingEstimator.ColorBits.Rgb,
            _ => throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ImageShape),
                $"BlockSparseTrainer.Options.ImageShape is {shape}; images decoded from the encoded-image column '{featureColumnName}' have 1 (grayscale) or 3 (RGB) channels."),
        };
        const string Image = ImageDecodingMapping.ImageColumnName;
        var transforms = context.Transforms;
        IEstimator<ITransformer> pipeline = transforms.CopyColumns(ImageDecodingMapping.BytesColumnName, featureColumnName)
            .Append(transforms.CustomMapping<ImageDecodingMapping.EncodedRow, ImageDecodingMapping.DecodedRow>(
                ImageDecodingMapping.Map, ImageDecodingMapping.ContractName));
        if (shape.Channels == 1)
            pipeline = pipeline.Append(transforms.ConvertToGrayscale(Image));
        return pipeline
            .Append(transforms.ResizeImages(Image, shape.Width, shape.Height, resizing: ImageResizingEstimator.ResizingKind.IsoCrop, cropAnchor: ImageResizingEstimator.Anchor.Center))
            .Append(transforms.ExtractPixels(PixelColumnName, Image, colors, interleavePixelColors: false, scaleImage: 1f / 255, offsetImage: 0))
            .Append(transforms.DropColumns(ImageDecodingMapping.BytesColumnName, Image));
    }

    /// <summary>
    /// The shape when <see cref="BlockSparseTrainer.Options.ImageShape"/> is null: from the first row's image,
    /// 1 channel when every pixel is grey, else 3; its height and width, scaled down (keeping the aspect ratio)
    /// so that the longer side is at most <see cref="DefaultMaxSide"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The data has no rows, or the first image cannot be decoded.</exception>
    public static ImageShape DefaultShape(IDataView input, DataViewSchema.Column features)
    {
        byte[] bytes;
        using (var cursor = input.GetRowCursor([features]))
        {
            if (!cursor.MoveNext())
                throw new InvalidDataException($"The training data has no rows: there is no image in column '{features.Name}' to take the image shape from.");
            VBuffer<byte> value = default;
            cursor.GetGetter<VBuffer<byte>>(features)(ref value);
            bytes = value.DenseValues().ToArray();
        }
        var decoded = new ImageDecodingMapping.DecodedRow();
        ImageDecodingMapping.Map(new ImageDecodingMapping.EncodedRow { Bytes = bytes }, decoded);
        using var image = decoded.Image!;
        bool grey = true;
        var pixels = image.Pixels;
        int step = image.BitsPerPixel / 8;
        // Rgba32 and Bgra32 both hold the colour in the first three bytes of a pixel.
        for (int i = 0; grey && step >= 3 && i + 2 < pixels.Length; i += step)
            grey = pixels[i] == pixels[i + 1] && pixels[i + 1] == pixels[i + 2];
        double scale = Math.Min(1.0, (double)DefaultMaxSide / Math.Max(image.Width, image.Height));
        return new ImageShape(grey ? 1 : 3, Math.Max(1, (int)Math.Round(image.Height * scale)), Math.Max(1, (int)Math.Round(image.Width * scale)));
    }
}
