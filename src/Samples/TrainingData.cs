using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;

namespace Samples;

/// <summary>
/// The training and test data of <c>train</c>, from either an IDX data set or an image folder (Model
/// Builder layout), with the featurisation that turns its rows into the trainer's feature vector.
/// </summary>
internal sealed class TrainingData
{
    public required IDataView Train { get; init; }
    public required IDataView Test { get; init; }
    public required int TrainRows { get; init; }
    public required int TestRows { get; init; }

    /// <summary>The shape of one image as a feature vector.</summary>
    public required ImageShape Shape { get; init; }

    /// <summary>The column the trainer reads.</summary>
    public required string FeatureColumnName { get; init; }

    /// <summary>Transforms from the rows to the feature column; empty for IDX data, whose rows are pixels already.</summary>
    public required IEstimator<ITransformer> Featurize { get; init; }

    /// <summary>True when the rows are image files: the saved model then takes <c>ImagePath</c> and gives text labels.</summary>
    public required bool FromImageFiles { get; init; }

    /// <summary>The image files of both splits (empty for IDX data), to name a file that cannot be decoded.</summary>
    public IReadOnlyList<string> ImagePaths { get; init; } = [];

    /// <summary>One line for the console: where the rows came from and how they were split.</summary>
    public required string Description { get; init; }

    /// <summary>Whether <paramref name="folder"/> holds IDX files; otherwise, whether it is an image folder; otherwise a clear error.</summary>
    public static bool IsImageFolder(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Data folder '{folder}' does not exist.");
        bool idx = IdxDataset.FileNames.Any(f => File.Exists(Path.Combine(folder, f)) || File.Exists(Path.Combine(folder, f + ".gz")));
        if (idx)
            return false;
        if (ImageFolder.IsImageFolder(folder))
            return true;
        throw new UsageException($"Data folder '{folder}' is neither an IDX data set (files {string.Join(", ", IdxDataset.FileNames)}, plain or .gz) "
            + "nor an image folder (one sub-folder per class holding its images, or train/ and test/ folders of that layout).");
    }

    public static TrainingData FromIdx(MLContext mlContext, string folder, int? trainRows, int? testRows)
    {
        IdxDataset.CheckFolder(folder);
        // From the headers, before reading the rows: images of another size (even of as many pixels, 14x56 for
        // 28x28) would be read as the training size by a convolutional network, or fail only after training.
        var (height, width) = IdxDataset.ImageSize(folder, train: true);
        var (testHeight, testWidth) = IdxDataset.ImageSize(folder, train: false);
        if ((testHeight, testWidth) != (height, width))
        {
            throw new InvalidDataException(
                $"{IdxDataset.FilePath(folder, "t10k-images-idx3-ubyte")} holds images of {testHeight}x{testWidth} (rows x columns), but the training images in "
                + $"{IdxDataset.FilePath(folder, "train-images-idx3-ubyte")} are {height}x{width}; the model reads one size. Use test images of the training size.");
        }
        var train = IdxDataset.Load(folder, train: true, trainRows);
        var test = IdxDataset.Load(folder, train: false, testRows);
        TestLabelCheck.RequireSeenInTraining(train.Select(r => r.Label), test.Select(r => r.Label).ToList(),
            $"test rows in {IdxDataset.FilePath(folder, "t10k-labels-idx1-ubyte")}", trainRows is not null);
        return new TrainingData
        {
            Train = IdxDataset.ToDataView(mlContext, train),
            Test = IdxDataset.ToDataView(mlContext, test),
            TrainRows = train.Count,
            TestRows = test.Count,
            Shape = new ImageShape(1, height, width),
            FeatureColumnName = nameof(IdxImage.Pixels),
            Featurize = new EstimatorChain<ITransformer>(),
            FromImageFiles = false,
            Description = $"IDX data set {folder}: train and t10k files",
        };
    }

    /// <summary>
    /// An image folder: split by its train/ and test/ sub-folders when it has them, else by
    /// <paramref name="testFraction"/> of each class with <paramref name="seed"/>.
    /// </summary>
    /// <param name="size">Width and height to resize to; null: the size of the first training image, scaled down (aspect kept) to at most <see cref="DefaultMaxSide"/> a side.</param>
    /// <param name="channels">1 (grayscale) or 3 (RGB); null: 1 when the first training image is grey, else 3.</param>
    /// <param name="skipBadImages">Leave out (and list in <see cref="SkippedImages"/>) files that are not complete, decodable images, instead of stopping at the first.</param>
    public static TrainingData FromImageFolder(MLContext mlContext, string folder, (int Width, int Height)? size, int? channels,
        double testFraction, int seed, int? trainRows, int? testRows, bool skipBadImages = false)
    {
        IReadOnlyList<ImageFolderRow> train, test;
        var skipped = new List<SkippedImage>();
        IReadOnlyList<ImageFolderRow> List(string f)
        {
            var listing = ImageFolder.List(f, skipBadImages);
            skipped.AddRange(listing.Skipped);
            return listing.Rows;
        }
        string split;
        if (ImageFolder.FindTrainTestFolders(folder) is { Train: var trainFolder, Test: var testFolder })
        {
            train = Shuffled(List(trainFolder), seed);
            test = Shuffled(List(testFolder), seed);
            split = "split by its train/ and test/ folders";
        }
        else
        {
            (train, test) = ImageFolder.Split(List(folder), testFraction, seed);
            split = string.Create(CultureInfo.InvariantCulture, $"split {1 - testFraction:0.##}/{testFraction:0.##} per class with seed {seed}");
        }
        // Both splits are shuffled, so the first N rows are a sample of every class.
        train = train.Take(trainRows ?? int.MaxValue).ToList();
        test = test.Take(testRows ?? int.MaxValue).ToList();
        TestLabelCheck.RequireSeenInTraining(train.Select(r => r.Label), test.Select(r => r.Label).ToList(),
            $"test images of '{folder}'", trainRows is not null);
        var (firstWidth, firstHeight, firstGrey) = ImagePipelines.Inspect(train[0].ImagePath);
        var (width, height) = size ?? Capped(firstWidth, firstHeight);
        var shape = new ImageShape(channels ?? (firstGrey ? 1 : 3), height, width);
        const string features = "Features";
        return new TrainingData
        {
            Train = mlContext.Data.LoadFromEnumerable(train),
            Test = mlContext.Data.LoadFromEnumerable(test),
            TrainRows = train.Count,
            TestRows = test.Count,
            Shape = shape,
            FeatureColumnName = features,
            Featurize = ImagePipelines.Featurize(mlContext, shape, outputColumnName: features),
            FromImageFiles = true,
            ImagePaths = train.Concat(test).Select(r => r.ImagePath).ToList(),
            Description = $"image folder {folder} ({train.Select(r => r.Label).Distinct().Count()} classes), {split}; images resized to {width}x{height}, {(shape.Channels == 1 ? "grayscale" : "RGB")}",
            SkippedImages = skipped,
        };
    }

    /// <summary>The longest side a default image size has: larger first images (photos) are scaled down to it.</summary>
    public const int DefaultMaxSide = 64;

    /// <summary>Bad image files left out with --skip-bad-images.</summary>
    public IReadOnlyList<SkippedImage> SkippedImages { get; init; } = [];

    private static (int Width, int Height) Capped(int width, int height)
    {
        double scale = Math.Min(1.0, (double)DefaultMaxSide / Math.Max(width, height));
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    /// <summary>
    /// Runs <paramref name="step"/> (training or scoring); when it fails on image data, finds the image that
    /// cannot be decoded and names it, since ML.NET's own error ("Invalid input stream contents") does not.
    /// </summary>
    public T NamingBadImages<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception e) when (FromImageFiles && e is InvalidOperationException or ArgumentException
            && ImageFolder.FindUndecodable(ImagePaths) is { } bad)
        {
            throw new InvalidDataException($"{bad.Reason} Replace or remove it.", e);
        }
    }

    private static IReadOnlyList<ImageFolderRow> Shuffled(IReadOnlyList<ImageFolderRow> rows, int seed)
    {
        var array = rows.ToArray();
        new Random(seed).Shuffle(array);
        return array;
    }
}
