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
        var train = IdxDataset.Load(folder, train: true, trainRows);
        var test = IdxDataset.Load(folder, train: false, testRows);
        var (height, width) = IdxDataset.ImageSize(folder, train: true);
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
    /// <param name="size">Width and height to resize to; null: the size of the first training image.</param>
    /// <param name="channels">1 (grayscale) or 3 (RGB).</param>
    public static TrainingData FromImageFolder(MLContext mlContext, string folder, (int Width, int Height)? size, int channels,
        double testFraction, int seed, int? trainRows, int? testRows)
    {
        IReadOnlyList<ImageFolderRow> train, test;
        string split;
        if (ImageFolder.FindTrainTestFolders(folder) is { Train: var trainFolder, Test: var testFolder })
        {
            train = Shuffled(ImageFolder.List(trainFolder), seed);
            test = Shuffled(ImageFolder.List(testFolder), seed);
            split = "split by its train/ and test/ folders";
        }
        else
        {
            (train, test) = ImageFolder.Split(ImageFolder.List(folder), testFraction, seed);
            split = string.Create(CultureInfo.InvariantCulture, $"split {1 - testFraction:0.##}/{testFraction:0.##} per class with seed {seed}");
        }
        var unknown = test.Select(r => r.Label).Distinct().Except(train.Select(r => r.Label)).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"The test images of '{folder}' have classes the training images lack: {string.Join(", ", unknown)}.");

        // Both splits are shuffled, so the first N rows are a sample of every class.
        train = train.Take(trainRows ?? int.MaxValue).ToList();
        test = test.Take(testRows ?? int.MaxValue).ToList();
        var (width, height) = size ?? FirstImageSize(train[0].ImagePath);
        var shape = new ImageShape(channels, height, width);
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
            Description = $"image folder {folder} ({train.Select(r => r.Label).Distinct().Count()} classes), {split}; images resized to {width}x{height}, {(channels == 1 ? "grayscale" : "RGB")}",
        };
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

    private static (int Width, int Height) FirstImageSize(string path)
    {
        var (width, height, _) = ImagePipelines.Inspect(path);
        return (width, height);
    }

    private static IReadOnlyList<ImageFolderRow> Shuffled(IReadOnlyList<ImageFolderRow> rows, int seed)
    {
        var array = rows.ToArray();
        new Random(seed).Shuffle(array);
        return array;
    }
}
