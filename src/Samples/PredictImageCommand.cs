using System.Globalization;

namespace Samples;

/// <summary><c>predict-image</c>: classifies image files with a model trained on an image folder, through <see cref="MnistModel"/>.</summary>
internal static class PredictImageCommand
{
    public const string Usage = """
        predict-image --model FILE.zip IMAGE...
          prints, for each image, tab-separated: the file, the predicted class, its probability, and the top 3 classes
          with their probabilities; with a model that train --data IMAGE_FOLDER saved
        """;

    private const int TopScores = 3;

    public static int Run(IEnumerable<string> args)
    {
        string? modelPath = null;
        var images = new List<string>();
        using (var e = args.GetEnumerator())
        {
            while (e.MoveNext())
            {
                if (e.Current == "--model")
                    modelPath = e.MoveNext() ? e.Current : throw new UsageException("--model needs a value.");
                else if (e.Current.StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException($"Unknown argument '{e.Current}'. Known: --model, then image files.");
                else
                    images.Add(e.Current);
            }
        }
        if (modelPath is null)
            throw new UsageException("predict-image needs --model FILE.zip.");
        ModelArgument.Check(modelPath);
        if (images.Count == 0)
            throw new UsageException("predict-image needs at least one image file after the options.");
        if (images.FirstOrDefault(i => !File.Exists(i)) is { } missing)
            throw new UsageException($"Image file '{missing}' does not exist.");

        // Before any scoring: ML.NET would score a truncated file (it decodes what is there) and decode a huge one whole.
        foreach (var image in images)
            Microsoft.ML.BlockSparse.Data.ImageFileCheck.Check(image);
        MnistModel.ModelPath = Path.GetFullPath(modelPath);
        var classes = MnistModel.ClassNames();
        foreach (var image in images)
        {
            MnistModel.ModelOutput prediction;
            try
            {
                prediction = MnistModel.Predict(image);
            }
            catch (ArgumentException e) when (e.ParamName == "imageStream")
            {
                // ML.NET's decoder names neither the file nor the problem in words a user knows.
                throw new InvalidDataException($"Image file '{image}' cannot be decoded: its content is not a complete image in a format ML.NET reads.", e);
            }
            var top = prediction.Score.Select((score, i) => (Score: score, Name: classes[i])).OrderByDescending(c => c.Score).Take(TopScores);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{image}\t{prediction.PredictedLabel}\t{prediction.Score.Max():F4}\ttop: {string.Join(", ", top.Select(c => $"{c.Name} {c.Score:F4}"))}"));
        }
        return 0;
    }
}
