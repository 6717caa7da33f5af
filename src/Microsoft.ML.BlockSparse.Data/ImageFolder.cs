using System.Globalization;

namespace Microsoft.ML.BlockSparse.Data;

/// <summary>One image of an image folder: its file and its class.</summary>
public sealed class ImageFolderRow
{
    /// <summary>Full path of the image file, ready for <c>LoadImages</c> or <c>LoadRawImageBytes</c> with no image folder.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>The class: the name of the class sub-folder the image is in, ready for <c>MapValueToKey</c>.</summary>
    public string Label { get; set; } = "";
}

/// <summary>An image file <see cref="ImageFolder.List(string, bool)"/> left out, and why.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Reason">What is wrong with it (the message that names it).</param>
public sealed record SkippedImage(string Path, string Reason);

/// <summary>What <see cref="ImageFolder.List(string, bool)"/> found: the good images and the skipped bad ones.</summary>
/// <param name="Rows">The images to use, class by class.</param>
/// <param name="Skipped">The bad files left out (empty unless skipping was asked for).</param>
public sealed record ImageFolderListing(IReadOnlyList<ImageFolderRow> Rows, IReadOnlyList<SkippedImage> Skipped);

/// <summary>
/// Lists an image folder in the layout Model Builder uses for image classification — one sub-folder
/// per class, named after the class, holding that class's images — into rows of
/// (<c>ImagePath</c>, <c>Label</c>), and splits them into training and test sets.
/// </summary>
/// <remarks>
/// Images may sit in nested folders below a class folder; they take the class folder's name. Files
/// with other extensions, and folders or files whose names start with a dot, are ignored. A folder
/// whose only sub-folders are <c>train</c> and <c>test</c>, each in this layout, is an already split
/// data set (see <see cref="FindTrainTestFolders"/>).
/// </remarks>
public static class ImageFolder
{
    /// <summary>File extensions listed as images (case-insensitive): the formats ML.NET's <c>LoadImages</c> decodes.</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>([".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Column names of the rows, as in Model Builder's generated code.</summary>
    public const string ImagePathColumnName = nameof(ImageFolderRow.ImagePath);

    /// <inheritdoc cref="ImagePathColumnName"/>
    public const string LabelColumnName = nameof(ImageFolderRow.Label);

    /// <summary>
    /// Whether <paramref name="folder"/> looks like an image folder: it has a sub-folder that holds an
    /// image file (directly or below). Cheap; <see cref="List(string)"/> does the full checks.
    /// </summary>
    public static bool IsImageFolder(string folder)
        => Directory.Exists(folder) && ClassFolders(folder).Any(c => ImageFiles(c).Any());

    /// <summary>
    /// The <c>train</c> and <c>test</c> sub-folders when <paramref name="folder"/> holds exactly those two
    /// (besides hidden ones), each an image folder; otherwise null, and the folder's sub-folders are classes.
    /// </summary>
    public static (string Train, string Test)? FindTrainTestFolders(string folder)
    {
        if (!Directory.Exists(folder))
            return null;
        var names = ClassFolders(folder).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var train = Path.Combine(folder, "train");
        var test = Path.Combine(folder, "test");
        // Two classes named train and test hold images directly; a split's train/ holds class folders.
        return names.SetEquals(["train", "test"]) && IsImageFolder(train) && IsImageFolder(test) ? (train, test) : null;
    }

    /// <summary>
    /// Every image of the folder, class by class (classes in ordinal order of their names, files likewise).
    /// Each file's header and end are checked with <see cref="ImageFileCheck.Check(string)"/>, so a file that is not
    /// an image, is truncated or is larger than <see cref="ImageFileCheck.MaxPixels"/> fails here, by name,
    /// rather than deep inside a training run (or, for a truncated file, not at all).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The folder has no class sub-folders, a class folder holds no images, or a file is not an image, is
    /// truncated or is too large.
    /// </exception>
    public static IReadOnlyList<ImageFolderRow> List(string folder) => List(folder, skipBadFiles: false).Rows;

    /// <summary>
    /// Every image of the folder, as <see cref="List(string)"/>; with <paramref name="skipBadFiles"/>, a file that is not
    /// an image, is truncated, is larger than <see cref="ImageFileCheck.MaxPixels"/> or cannot be decoded is left out
    /// and reported in <see cref="ImageFolderListing.Skipped"/> (with the reason) instead of failing the listing.
    /// Skipping decodes every image once to find the ones whose header and end are intact but whose content is not
    /// (without skipping, such a file is named when training reaches it).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The folder has no class sub-folders, a class folder holds no (good) images, or, without
    /// <paramref name="skipBadFiles"/>, a file is not an image, is truncated or is too large.
    /// </exception>
    public static ImageFolderListing List(string folder, bool skipBadFiles)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Image folder '{folder}' does not exist.");
        var classes = ClassFolders(folder).ToList();
        if (classes.Count == 0)
        {
            throw new InvalidDataException(
                $"Image folder '{folder}' has no class sub-folders. Put each class's images in a sub-folder named after the class "
                + "(the Model Builder layout: FOLDER/cat/1.jpg, FOLDER/dog/2.jpg, ...); images directly in the folder have no label.");
        }

        var rows = new List<ImageFolderRow>();
        var skipped = new List<SkippedImage>();
        foreach (var classFolder in classes)
        {
            var label = Path.GetFileName(classFolder);
            var files = ImageFiles(classFolder).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                throw new InvalidDataException(
                    $"Class folder '{classFolder}' (class '{label}') holds no images. Every class needs at least one file with one of the extensions "
                    + $"{string.Join(", ", ImageExtensions.Order(StringComparer.Ordinal))}; remove the folder or add its images.");
            }
            int kept = 0;
            foreach (var file in files)
            {
                if (skipBadFiles)
                {
                    try
                    {
                        ImageFileCheck.Check(file);
                        ImagePipelines.Inspect(file);
                    }
                    catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
                    {
                        skipped.Add(new SkippedImage(Path.GetFullPath(file), e.Message));
                        continue;
                    }
                }
                else
                {
                    ImageFileCheck.Check(file);
                }
                rows.Add(new ImageFolderRow { ImagePath = Path.GetFullPath(file), Label = label });
                kept++;
            }
            if (kept == 0)
            {
                throw new InvalidDataException(
                    $"Class folder '{classFolder}' (class '{label}') holds no good images: all {files.Count} were skipped as bad "
                    + $"(the first: {skipped[^files.Count].Reason}). Replace them or remove the folder.");
            }
        }
        return new ImageFolderListing(rows, skipped);
    }

    /// <summary>The folder's images as an <see cref="IDataView"/> with text columns <c>ImagePath</c> and <c>Label</c>.</summary>
    /// <inheritdoc cref="List(string)" path="/exception"/>
    public static IDataView Load(MLContext mlContext, string folder)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Data.LoadFromEnumerable(List(folder));
    }

    /// <summary>
    /// Splits rows into training and test sets, class by class (stratified), so each class keeps about
    /// <paramref name="testFraction"/> of its images for testing, and at least one for training.
    /// Deterministic: the same rows and seed give the same split. Both sets come back shuffled (with
    /// the same seed), so any prefix of them is a sample of all classes.
    /// </summary>
    /// <param name="rows">The images, as <see cref="List(string)"/> returns them.</param>
    /// <param name="testFraction">Share of each class held out for testing, greater than 0 and less than 1.</param>
    /// <param name="seed">Seed of the random choice.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="testFraction"/> is not in (0, 1).</exception>
    /// <exception cref="InvalidDataException">The fraction leaves the test set empty (too few images per class).</exception>
    public static (IReadOnlyList<ImageFolderRow> Train, IReadOnlyList<ImageFolderRow> Test) Split(
        IReadOnlyList<ImageFolderRow> rows, double testFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!(testFraction > 0 && testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"The test fraction is {testFraction.ToString(CultureInfo.InvariantCulture)}; it must be greater than 0 and less than 1.");

        var random = new Random(seed);
        var train = new List<ImageFolderRow>();
        var test = new List<ImageFolderRow>();
        foreach (var group in rows.GroupBy(r => r.Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            // Round to the nearest count, but keep at least one image of every class for training.
            int testCount = Math.Min((int)Math.Round(members.Length * testFraction, MidpointRounding.AwayFromZero), members.Length - 1);
            test.AddRange(members.Take(testCount));
            train.AddRange(members.Skip(testCount));
        }
        if (test.Count == 0)
        {
            throw new InvalidDataException(
                $"A test fraction of {testFraction.ToString(CultureInfo.InvariantCulture)} of {rows.Count} images leaves no test images "
                + "(each class rounds to 0). Use a larger fraction or more images per class.");
        }
        var trainArray = train.ToArray();
        var testArray = test.ToArray();
        random.Shuffle(trainArray);
        random.Shuffle(testArray);
        return (trainArray, testArray);
    }

    /// <summary>
    /// Lists <paramref name="folder"/> and splits it with <see cref="Split"/>, as two <see cref="IDataView"/>s
    /// with text columns <c>ImagePath</c> and <c>Label</c>.
    /// </summary>
    public static (IDataView Train, IDataView Test) LoadSplit(MLContext mlContext, string folder, double testFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var (train, test) = Split(List(folder), testFraction, seed);
        return (mlContext.Data.LoadFromEnumerable(train), mlContext.Data.LoadFromEnumerable(test));
    }

    /// <summary>
    /// The first of <paramref name="imagePaths"/> that cannot be decoded, and the message that names it; null when all can.
    /// For naming the culprit after a pipeline failed with ML.NET's anonymous "Invalid input stream
    /// contents": <see cref="List(string)"/> only checks each file's header and end, and decoding every image up
    /// front would double the cost of every run.
    /// </summary>
    public static (string Path, string Reason)? FindUndecodable(IEnumerable<string> imagePaths)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        foreach (var path in imagePaths)
        {
            try
            {
                ImagePipelines.Inspect(path);
            }
            catch (InvalidDataException e)
            {
                return (path, e.Message);
            }
        }
        return null;
    }

    private static IEnumerable<string> ClassFolders(string folder)
        => Directory.EnumerateDirectories(folder)
            .Where(d => !IsHidden(d))
            .Order(StringComparer.Ordinal);

    private static IEnumerable<string> ImageFiles(string classFolder)
        => Directory.EnumerateFiles(classFolder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f))
                && !Path.GetRelativePath(classFolder, f).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')));

    private static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');
}
