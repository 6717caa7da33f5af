using System.Globalization;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// The shape of one image as a feature vector: <see cref="Channels"/> planes of <see cref="Height"/> rows
/// by <see cref="Width"/> columns, stored plane by plane and row by row (what ML.NET's <c>ExtractPixels</c>
/// produces with its default <c>interleavePixelColors: false</c>, and the IDX reader for one channel).
/// </summary>
public sealed record ImageShape
{
    /// <summary>Creates a shape; every side must be at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A side is less than 1.</exception>
    public ImageShape(int channels, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>Colour planes: 1 for grayscale, 3 for RGB.</summary>
    public int Channels { get; }

    /// <summary>Rows of pixels.</summary>
    public int Height { get; }

    /// <summary>Columns of pixels.</summary>
    public int Width { get; }

    /// <summary>Values per image, <c>Channels · Height · Width</c>: the feature vector's length.</summary>
    public long Length => (long)Channels * Height * Width;

    /// <summary>Deconstructs into <c>(channels, height, width)</c>.</summary>
    public void Deconstruct(out int channels, out int height, out int width)
        => (channels, height, width) = (Channels, Height, Width);

    /// <summary>Formats as <c>"CxHxW"</c>, for example <c>"1x28x28"</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Channels}x{Height}x{Width}");
}
