using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.BlockSparse.Data;

/// <summary>
/// The ML.NET image featurisation that turns an image path into the feature vector the trainer reads:
/// <c>LoadImages → ConvertToGrayscale</c> (one channel only) <c>→ ResizeImages → ExtractPixels</c>, from
/// Microsoft.ML.ImageAnalytics. Everything in it is an ML.NET transform, so it is saved in the model zip
/// and runs again at prediction time.
/// </summary>
/// <remarks>
/// Pixels are scaled to [0, 1] (value / 255, no offset), exactly as <see cref="IdxDataset"/> scales IDX
/// images, so a model trained on IDX files and one trained on the same images as PNG files see the same
/// numbers. Planes are extracted one after the other (R, G, B), rows within a plane: the column's type has
/// dimensions <c>[C, H, W]</c>, which the trainer reads as the image shape.
/// <para>
/// ML.NET's <c>LoadRawImageBytes</c> (Model Builder's raw-bytes column) reads the same path column, but in
/// ML.NET 5 no transform decodes those bytes into an image (<c>LoadImages</c> accepts only a text column),
/// so the bytes can feed ML.NET's own <c>ImageClassification</c> trainer but not pixel extraction.
/// </para>
/// </remarks>
public static class ImagePipelines
{
    /// <summary>
    /// Builds the featurisation for images of <paramref name="shape"/>: each image is loaded, made grayscale
    /// when <see cref="ImageShape.Channels"/> is 1, resized to <see cref="ImageShape.Height"/> ×
    /// <see cref="ImageShape.Width"/> (ML.NET's default: scaled to cover the size, centre cropped), and its
    /// pixels extracted to <paramref name="outputColumnName"/>, a vector of <c>C·H·W</c> floats in [0, 1].
    /// </summary>
    /// <param name="mlContext">The context the transforms belong to.</param>
    /// <param name="shape">Channels (1: grayscale, 3: RGB), height and width of the extracted pixels.</param>
    /// <param name="inputColumnName">Text column with the image paths. Default <c>"ImagePath"</c>, as <see cref="ImageFolder"/> makes.</param>
    /// <param name="outputColumnName">The feature column to create. Default <c>"Features"</c>, the trainer's default.</param>
    /// <param name="imageFolder">Folder the paths are relative to; null for full paths (as <see cref="ImageFolder"/> lists them).</param>
    /// <exception cref="ArgumentOutOfRangeException">The shape has other than 1 or 3 channels.</exception>
    public static IEstimator<ITransformer> Featurize(MLContext mlContext, ImageShape shape,
        string inputColumnName = ImageFolder.ImagePathColumnName, string outputColumnName = "Features", string? imageFolder = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        var colors = shape.Channels switch
        {
            1 => ImagePixelExtractingEstimator.ColorBits.Red,   // after ConvertToGrayscale all three are the grey value
            3 => ImagePixelExtractingEstimator.ColorBits.Rgb,
            _ => throw new ArgumentOutOfRangeException(nameof(shape), $"Image shape {shape} has {shape.Channels} channels; pixel extraction gives 1 (grayscale) or 3 (RGB)."),
        };

        // A working column for the decoded image, dropped at the end: only the pixels go on.
        var image = outputColumnName + ".Image";
        var transforms = mlContext.Transforms;
        IEstimator<ITransformer> pipeline = transforms.LoadImages(image, imageFolder, inputColumnName);
        if (shape.Channels == 1)
            pipeline = pipeline.Append(transforms.ConvertToGrayscale(image));
        return pipeline
            .Append(transforms.ResizeImages(image, shape.Width, shape.Height))
            .Append(transforms.ExtractPixels(outputColumnName, image, colors, interleavePixelColors: false, scaleImage: 1f / 255, offsetImage: 0))
            .Append(transforms.DropColumns(image));
    }

    /// <summary>
    /// Width, height and whether the image is grayscale (all pixels have equal red, green and blue), read
    /// from one file, for choosing an <see cref="ImageShape"/> that matches a data set.
    /// </summary>
    /// <exception cref="InvalidDataException">The file cannot be decoded as an image.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static (int Width, int Height, bool Grayscale) Inspect(string imagePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imagePath);
        Microsoft.ML.Data.MLImage decoded;
        // From a stream: MLImage.CreateFromFile reports undecodable content as an "Invalid path".
        using (var file = File.OpenRead(imagePath))
        {
            try
            {
                decoded = Microsoft.ML.Data.MLImage.CreateFromStream(file);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new InvalidDataException($"Image file '{imagePath}' cannot be decoded: its content is not a complete image in a format ML.NET reads ({e.Message}).", e);
            }
        }
        using (decoded)
        {
            var pixels = decoded.Pixels;
            int step = decoded.BitsPerPixel / 8;
            bool grey = true;
            // Rgba32 and Bgra32 both hold the colour in the first three bytes of a pixel.
            for (int i = 0; grey && step >= 3 && i + 2 < pixels.Length; i += step)
                grey = pixels[i] == pixels[i + 1] && pixels[i + 1] == pixels[i + 2];
            return (decoded.Width, decoded.Height, grey);
        }
    }
}
