using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Truncated or huge image files ("Trust, round two"): each is refused before training with a message
/// naming the file and what was expected, in the library, where any user of it would meet them.
/// </summary>
public class ImageFileTrustTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void TruncatedImagesAreRefusedByName()
    {
        TrustFiles.Png(temp.File("set/a/1.png"), 28, 28);
        TrustFiles.Png(temp.File("set/b/1.jpg"), 28, 28);   // PNG bytes under a .jpg name: the content decides
        File.WriteAllBytes(temp.File("set/b/2.bmp"), Bmp(3, 2));
        File.WriteAllBytes(temp.File("set/b/3.gif"), Gif);
        Assert.Equal(4, ImageFolder.List(temp.File("set")).Count);   // complete files of each format pass
        Assert.Equal((3, 2), (ImagePipelines.Inspect(temp.File("set/b/2.bmp")).Width, ImagePipelines.Inspect(temp.File("set/b/2.bmp")).Height));

        // MLImage decodes what it has of a cut PNG and fills the rest; the listing must catch it.
        var png = temp.File("set/a/1.png");
        File.WriteAllBytes(png, File.ReadAllBytes(png)[..60]);
        ImagePipelines.Inspect(png);   // decodes: the reason for the check
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("set")));
        Assert.Contains($"Image file '{png}' is truncated: the PNG has no IEND chunk at its end (60 bytes)", e.Message);
        File.Delete(png);
        TrustFiles.Png(png, 28, 28);

        var bmp = temp.File("set/b/2.bmp");
        File.WriteAllBytes(bmp, Bmp(3, 2)[..60]);
        Assert.Contains($"Image file '{bmp}' is truncated", Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("set"))).Message);
        File.WriteAllBytes(bmp, Bmp(3, 2));

        var gif = temp.File("set/b/3.gif");
        File.WriteAllBytes(gif, Gif[..^1]);
        Assert.Contains($"Image file '{gif}' is truncated: the GIF has no trailer byte", Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("set"))).Message);
    }

    [Fact]
    public void JpegWithoutEndMarkerIsRefused()
    {
        var jpeg = temp.File("set/a/1.jpg");
        Directory.CreateDirectory(temp.File("set/a"));
        using (var image = MLImage.CreateFromPixels(16, 16, MLPixelFormat.Rgba32, Enumerable.Repeat((byte)200, 16 * 16 * 4).ToArray()))
            image.Save(jpeg);
        Assert.Single(ImageFolder.List(temp.File("set")));
        File.WriteAllBytes(jpeg, File.ReadAllBytes(jpeg)[..^2]);
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("set")));
        Assert.Contains($"Image file '{jpeg}' is truncated: the JPEG has no end-of-image marker", e.Message);
    }

    [Fact]
    public void ImageDeclaringAHugeSizeIsRefusedBeforeDecoding()
    {
        var png = temp.File("set/a/huge.png");
        Directory.CreateDirectory(temp.File("set/a"));
        File.WriteAllBytes(png, TrustFiles.PngHeaderOnly(20000, 20000));
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("set")));
        Assert.Contains($"Image file '{png}' is 20000x20000 pixels (400,000,000); images may have at most 67,108,864 pixels (8192x8192)", e.Message);

        File.WriteAllBytes(png, Bmp(30000, 3000, headerOnly: true));
        Assert.Contains("is 30000x3000 pixels", Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("set"))).Message);
    }

    // A 24-bit BMP (BITMAPINFOHEADER, bottom-up) of grey pixels; headerOnly stops after the headers.
    private static byte[] Bmp(int width, int height, bool headerOnly = false)
    {
        int rowBytes = (width * 3 + 3) / 4 * 4;
        int size = 54 + rowBytes * height;
        var bytes = new byte[headerOnly ? 54 : size];
        "BM"u8.CopyTo(bytes);
        BitConverter.TryWriteBytes(bytes.AsSpan(2), size);
        BitConverter.TryWriteBytes(bytes.AsSpan(10), 54);
        BitConverter.TryWriteBytes(bytes.AsSpan(14), 40);
        BitConverter.TryWriteBytes(bytes.AsSpan(18), width);
        BitConverter.TryWriteBytes(bytes.AsSpan(22), height);
        BitConverter.TryWriteBytes(bytes.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(bytes.AsSpan(28), (short)24);
        for (int i = 54; i < bytes.Length; i++)
            bytes[i] = 128;
        return bytes;
    }

    // The classic 1x1 GIF89a: header, screen descriptor with a 2-colour table, one image, trailer 0x3B.
    private static readonly byte[] Gif =
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0xFF, 0xFF, 0xFF, 0, 0, 0,
        0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3B,
    ];
}
