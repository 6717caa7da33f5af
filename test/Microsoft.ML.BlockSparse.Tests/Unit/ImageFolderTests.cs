using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.MLNet;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Listing and splitting image folders in the Model Builder layout, and their errors.</summary>
public class ImageFolderTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void ListsOneClassPerSubFolderAndSkipsWhatIsNoImage()
    {
        WriteImage("cat/b.png");
        WriteImage("cat/nested/a.jpg");        // deeper folders keep the class folder's label
        WriteImage("dog/c.PNG");               // extensions are case-insensitive
        File.WriteAllText(temp.File("dog/notes.txt"), "not an image, not listed");
        WriteImage("dog/.thumb.png");          // hidden files, hidden folders and images outside class folders are skipped
        WriteImage(".cache/x.png");
        WriteImage("top.png");

        var rows = ImageFolder.List(temp.Path);

        Assert.Equal(["cat", "cat", "dog"], rows.Select(r => r.Label));
        Assert.Equal([temp.File("cat/b.png"), temp.File("cat/nested/a.jpg"), temp.File("dog/c.PNG")], rows.Select(r => r.ImagePath));
        Assert.True(ImageFolder.IsImageFolder(temp.Path));
        Assert.Null(ImageFolder.FindTrainTestFolders(temp.Path));
    }

    [Fact]
    public void TrainAndTestSubFoldersAreASplitOnlyWhenTheyHoldClassFolders()
    {
        WriteImage("split/train/0/1.png");
        WriteImage("split/test/0/2.png");
        Assert.Equal((temp.File("split/train"), temp.File("split/test")), ImageFolder.FindTrainTestFolders(temp.File("split")));

        // Two classes that happen to be called train and test hold images directly.
        WriteImage("classes/train/1.png");
        WriteImage("classes/test/2.png");
        Assert.Null(ImageFolder.FindTrainTestFolders(temp.File("classes")));
        Assert.Equal(["test", "train"], ImageFolder.List(temp.File("classes")).Select(r => r.Label));
    }

    [Fact]
    public void BadFoldersAndFilesAreNamedInTheError()
    {
        var missing = Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.List(temp.File("nowhere")));
        Assert.Contains("Image folder", missing.Message);
        Assert.Contains("does not exist", missing.Message);

        WriteImage("flat/1.png");
        var flat = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("flat")));
        Assert.Contains("has no class sub-folders", flat.Message);

        WriteImage("data/cat/1.png");
        Directory.CreateDirectory(temp.File("data/dog"));
        File.WriteAllText(temp.File("data/dog/readme.txt"), "no images here");
        var empty = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("data")));
        Assert.Contains($"Class folder '{temp.File("data/dog")}' (class 'dog') holds no images", empty.Message);

        File.WriteAllText(temp.File("data/dog/1.png"), "this is text");
        var text = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("data")));
        Assert.Contains($"Image file '{temp.File("data/dog/1.png")}' is not a readable image", text.Message);

        File.WriteAllBytes(temp.File("data/dog/1.png"), []);
        var nothing = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("data")));
        Assert.Contains("is empty", nothing.Message);

        // A PNG signature and garbage is refused by the listing, as not complete.
        File.WriteAllBytes(temp.File("data/dog/1.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        Assert.Contains("is not a complete PNG", Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.File("data"))).Message);

        // A header and an end but no image data passes the listing; decoding names it.
        File.WriteAllBytes(temp.File("data/dog/1.png"), TrustFiles.PngHeaderOnly(4, 4));
        var rows = ImageFolder.List(temp.File("data"));
        var bad = ImageFolder.FindUndecodable(rows.Select(r => r.ImagePath));
        Assert.NotNull(bad);
        Assert.Equal(temp.File("data/dog/1.png"), bad.Value.Path);
        Assert.Contains("cannot be decoded", bad.Value.Reason);
        Assert.Null(ImageFolder.FindUndecodable([temp.File("data/cat/1.png")]));
    }

    [Fact]
    public void SplitIsPerClassDeterministicDisjointAndShuffled()
    {
        var rows = Rows(("a", 10), ("b", 20), ("c", 5));

        var (train, test) = ImageFolder.Split(rows, 0.2, seed: 7);

        // About a fifth of every class is held out: 2 of 10, 4 of 20, 1 of 5.
        Assert.Equal(new Dictionary<string, int> { ["a"] = 2, ["b"] = 4, ["c"] = 1 }, test.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => g.Count()));
        Assert.Equal(rows.Select(r => r.ImagePath).Order(), train.Concat(test).Select(r => r.ImagePath).Order());
        Assert.Empty(train.Select(r => r.ImagePath).Intersect(test.Select(r => r.ImagePath)));
        Assert.True(train.Take(10).Select(r => r.Label).Distinct().Count() > 1, "the training rows should come shuffled, not class by class");

        var again = ImageFolder.Split(rows, 0.2, seed: 7);
        Assert.Equal(test.Select(r => r.ImagePath), again.Test.Select(r => r.ImagePath));
        Assert.Equal(train.Select(r => r.ImagePath), again.Train.Select(r => r.ImagePath));
        var other = ImageFolder.Split(rows, 0.2, seed: 8);
        Assert.NotEqual(test.Select(r => r.ImagePath).Order(), other.Test.Select(r => r.ImagePath).Order());
    }

    [Fact]
    public void SplitRejectsFractionsThatLeaveASideEmpty()
    {
        var rows = Rows(("a", 3), ("b", 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Split(rows, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageFolder.Split(rows, 1, 1));
        var tooFew = Assert.Throws<InvalidDataException>(() => ImageFolder.Split(rows, 0.1, 1));
        Assert.Contains("leaves no test images", tooFew.Message);
        // Every class keeps an image for training, even at a large fraction.
        Assert.Equal(2, ImageFolder.Split(rows, 0.99, 1).Train.Count);
    }

    [Fact]
    public void SkippingBadFilesListsTheGoodOnesAndNamesEachBadOne()
    {
        WriteImage("cat/1.png");
        WriteImage("cat/2.png");
        WriteImage("dog/3.png");
        File.WriteAllText(temp.File("cat/renamed.jpg"), "text, not an image");
        File.WriteAllBytes(temp.File("dog/cut.png"), File.ReadAllBytes(temp.File("dog/3.png"))[..40]);
        File.WriteAllBytes(temp.File("dog/empty-inside.png"), TrustFiles.PngHeaderOnly(4, 4));   // header and end intact, no pixels
        File.WriteAllBytes(temp.File("dog/huge.png"), TrustFiles.PngHeaderOnly(20000, 20000));

        // Without skipping, the first bad file stops the listing, by name.
        var first = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.Path));
        Assert.Contains($"Image file '{temp.File("cat/renamed.jpg")}' is not a readable image", first.Message);

        var listing = ImageFolder.List(temp.Path, skipBadFiles: true);
        Assert.Equal(["1.png", "2.png", "3.png"], listing.Rows.Select(r => Path.GetFileName(r.ImagePath)));
        Assert.Equal(["renamed.jpg", "cut.png", "empty-inside.png", "huge.png"], listing.Skipped.Select(b => Path.GetFileName(b.Path)));
        Assert.Contains("is not a readable image", listing.Skipped[0].Reason);
        Assert.Contains("is truncated", listing.Skipped[1].Reason);
        Assert.Contains("cannot be decoded", listing.Skipped[2].Reason);
        Assert.Contains("is 20000x20000 pixels", listing.Skipped[3].Reason);
        Assert.All(listing.Skipped, b => Assert.Contains(b.Path, b.Reason));

        // A class left with no good image is an error, not a silently missing class.
        File.Delete(temp.File("dog/3.png"));
        var noneLeft = Assert.Throws<InvalidDataException>(() => ImageFolder.List(temp.Path, skipBadFiles: true));
        Assert.Contains("(class 'dog') holds no good images: all 3 were skipped", noneLeft.Message);
    }

    [Fact]
    public void ListingFeedsLoadRawImageBytesToo()
    {
        WriteImage("x/0/1.png");
        var ml = new MLContext(1);
        var bytes = ml.Transforms.LoadRawImageBytes("Bytes", null, ImageFolder.ImagePathColumnName)
            .Fit(ImageFolder.Load(ml, temp.File("x"))).Transform(ImageFolder.Load(ml, temp.File("x")))
            .GetColumn<byte[]>("Bytes").Single();
        Assert.Equal(File.ReadAllBytes(temp.File("x/0/1.png")), bytes);
    }

    [Fact]
    public void ImageShapeMustMatchTheFeatureLengthAndTheExtractedShape()
    {
        var ml = new MLContext(1);
        var rows = Enumerable.Range(0, 20).Select(i => new FlatRow { Label = (i % 2).ToString(), Features = new float[784] }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new BlockSparseTrainer.Options { Epochs = 1, ImageShape = new ImageShape(3, 28, 28) };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(options));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Fit(data));
        Assert.Equal("ImageShape", e.ParamName);
        Assert.Contains("ImageShape is 3x28x28 (channels x height x width), 2352 values per image", e.Message);
        Assert.Contains("holds 784 values per row", e.Message);

        options.ImageShape = new ImageShape(1, 28, 28);
        pipeline.Fit(data).Dispose();   // agrees: trains

        // ExtractPixels' output carries [C, H, W]; interleaved [H, W, C] and flat vectors carry no shape.
        Assert.Equal(new ImageShape(3, 28, 28), ImageShapeCheck.FromColumnType(new VectorDataViewType(NumberDataViewType.Single, 3, 28, 28)));
        Assert.Null(ImageShapeCheck.FromColumnType(new VectorDataViewType(NumberDataViewType.Single, 28, 28, 3)));
        Assert.Null(ImageShapeCheck.FromColumnType(new VectorDataViewType(NumberDataViewType.Single, 784)));

        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageShape(0, 28, 28));
    }

    private sealed class FlatRow
    {
        public string Label { get; set; } = "";

        [VectorType(784)]
        public float[] Features { get; set; } = [];
    }

    private static List<ImageFolderRow> Rows(params (string Label, int Count)[] classes)
        => classes.SelectMany(c => Enumerable.Range(0, c.Count).Select(i => new ImageFolderRow { Label = c.Label, ImagePath = $"/{c.Label}/{i}.png" })).ToList();

    private void WriteImage(string relative)
    {
        var path = temp.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var rgba = Enumerable.Range(0, 4 * 4 * 4).Select(i => (byte)(i * 3)).ToArray();
        using var image = MLImage.CreateFromPixels(4, 4, MLPixelFormat.Rgba32, rgba);
        image.Save(path.EndsWith(".png", StringComparison.Ordinal) ? path : path + ".tmp.png");
        if (!path.EndsWith(".png", StringComparison.Ordinal))
            File.Move(path + ".tmp.png", path);   // MLImage picks the format from the extension; a .jpg holding PNG bytes is still an image
    }
}
