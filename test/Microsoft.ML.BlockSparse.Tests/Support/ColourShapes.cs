using SkiaSharp;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// A small synthetic colour data set in the Model Builder layout: four classes, red and blue circles and
/// squares, so a model has to see colour AND shape (colour alone or shape alone gets half right). Each image has a
/// position near the centre, size, shade, background and noise; files alternate between PNG and JPEG. Drawn with SkiaSharp,
/// which ML.NET's ImageAnalytics ships.
/// </summary>
internal static class ColourShapes
{
    public static readonly string[] Classes = ["blue_circle", "blue_square", "red_circle", "red_square"];

    /// <summary>Writes <paramref name="perClass"/> images of each class into <c>folder/CLASS/</c>; returns (path, class) in class order.</summary>
    public static IReadOnlyList<(string Path, string Label)> Write(string folder, int perClass, int seed, int size = 32)
    {
        var random = new Random(seed);
        var files = new List<(string, string)>();
        foreach (var label in Classes)
        {
            Directory.CreateDirectory(Path.Combine(folder, label));
            for (int i = 0; i < perClass; i++)
            {
                var format = i % 2 == 0 ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
                var path = Path.Combine(folder, label, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{i:D4}.{(format == SKEncodedImageFormat.Png ? "png" : "jpg")}"));
                File.WriteAllBytes(path, Draw(label, size, random, format));
                files.Add((path, label));
            }
        }
        return files;
    }

    /// <summary>One encoded image of <paramref name="label"/>.</summary>
    public static byte[] Draw(string label, int size, Random random, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            // A greyish-green background that varies, so neither the red nor the blue channel alone is the shape.
            byte background = (byte)random.Next(90, 170);
            canvas.Clear(new SKColor((byte)(background - 20), background, (byte)(background - 20)));
            byte strong = (byte)random.Next(190, 256), weak = (byte)random.Next(0, 60);
            var colour = label.StartsWith("red", StringComparison.Ordinal) ? new SKColor(strong, weak, weak) : new SKColor(weak, weak, strong);
            using var paint = new SKPaint { Color = colour, IsAntialias = true, Style = SKPaintStyle.Fill };
            // Near the centre, of varying size: an MLP has no translation invariance, and a few hundred images must do.
            float radius = size * (0.28f + 0.1f * (float)random.NextDouble());
            float cx = size / 2f + size * 0.08f * (2 * (float)random.NextDouble() - 1);
            float cy = size / 2f + size * 0.08f * (2 * (float)random.NextDouble() - 1);
            if (label.EndsWith("circle", StringComparison.Ordinal))
                canvas.DrawCircle(cx, cy, radius, paint);
            else
                canvas.DrawRect(cx - radius, cy - radius, 2 * radius, 2 * radius, paint);
        }
        for (int n = 0; n < size * size / 20; n++)
        {
            int x = random.Next(size), y = random.Next(size);
            var c = bitmap.GetPixel(x, y);
            int d = random.Next(-40, 41);
            bitmap.SetPixel(x, y, new SKColor(Clamp(c.Red + d), Clamp(c.Green + d), Clamp(c.Blue + d)));
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}
