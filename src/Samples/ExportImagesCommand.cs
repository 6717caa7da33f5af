using System.Diagnostics;
using Microsoft.ML.BlockSparse.Data;

namespace Samples;

/// <summary>
/// <c>export-images</c>: writes an IDX data set as PNG files in the Model Builder layout, training and
/// test images in separate folders: <c>OUT/train/&lt;label&gt;/00001.png</c>, <c>OUT/test/&lt;label&gt;/…</c>.
/// </summary>
internal static class ExportImagesCommand
{
    public const string Usage = """
        export-images --out FOLDER [--data DIR] [--rows N] [--force]
          writes the IDX data set in DIR (default: the MNIST cache) as PNG files, FOLDER/train/<label>/00001.png and FOLDER/test/<label>/...;
          --rows keeps the first N images of each split; a non-empty FOLDER is refused unless --force, which replaces its train/ and test/
        """;

    private static readonly HashSet<string> ValueOptions = ["--data", "--out", "--rows"];
    private static readonly HashSet<string> Flags = ["--force"];

    public static int Run(IEnumerable<string> args)
    {
        var cl = new CommandLine(args, ValueOptions, Flags);
        var output = Path.GetFullPath(cl.Text("--out") ?? throw new UsageException("export-images needs --out FOLDER."));
        var dataFolder = cl.Text("--data") ?? DataLocation.DefaultMnistFolder;
        var rows = cl.Int("--rows", min: 1);
        IdxDataset.CheckFolder(dataFolder);

        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            if (!cl.Has("--force"))
                throw new UsageException($"Output folder '{output}' is not empty. Choose another folder, or add --force to replace its train/ and test/ sub-folders.");
            foreach (var split in new[] { "train", "test" })
            {
                var old = Path.Combine(output, split);
                if (Directory.Exists(old))
                {
                    Directory.Delete(old, recursive: true);
                    Console.WriteLine($"Removed the existing {old} (--force).");
                }
            }
        }

        var clock = Stopwatch.StartNew();
        int written = 0;
        foreach (var (split, train) in new[] { ("train", true), ("test", false) })
        {
            var (height, width) = IdxDataset.ImageSize(dataFolder, train);
            var images = IdxDataset.Load(dataFolder, train, rows);
            written += ImageExport.Write(images, height, width, Path.Combine(output, split));
            Console.WriteLine($"{split}: {images.Count} images of {width}x{height} in {images.Select(i => i.Label).Distinct().Count()} class folders under {Path.Combine(output, split)}");
        }
        Console.WriteLine($"Wrote {written} PNG files in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}
