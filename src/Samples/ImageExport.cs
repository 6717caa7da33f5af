using System.Globalization;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;

namespace Samples;

/// <summary>
/// Writes IDX images as PNG files in the Model Builder layout, <c>FOLDER/&lt;label&gt;/00001.png</c>, so the
/// image-folder path can be tried on MNIST. Pixels are written as 8-bit grey (R = G = B) through
/// ML.NET's own <see cref="MLImage"/>, which the image pipeline then reads back.
/// </summary>
internal static class ImageExport
{
    /// <summary>Writes <paramref name="rows"/> (each <paramref name="height"/> × <paramref name="width"/>) into class folders under <paramref name="folder"/>.</summary>
    /// <returns>How many files were written.</returns>
    public static int Write(IReadOnlyList<IdxImage> rows, int height, int width, string folder)
    {
        int digits = Math.Max(5, rows.Count.ToString(CultureInfo.InvariantCulture).Length);
        var rgba = new byte[height * width * 4];
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.Pixels.Length != height * width)
                throw new InvalidDataException($"Image {i + 1} has {row.Pixels.Length} pixels; expected {height}x{width}.");
            for (int p = 0; p < row.Pixels.Length; p++)
            {
                // IdxDataset scaled the bytes by 1/255; this restores them exactly.
                byte grey = (byte)Math.Round(row.Pixels[p] * 255f);
                rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = grey;
                rgba[4 * p + 3] = 255;
            }
            var classFolder = Path.Combine(folder, row.Label);
            Directory.CreateDirectory(classFolder);
            using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Rgba32, rgba);
            image.Save(Path.Combine(classFolder, (i + 1).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png"));
        }
        return rows.Count;
    }
}
