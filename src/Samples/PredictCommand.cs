using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;

namespace Samples;

/// <summary>
/// <c>predict</c>: loads a saved model zip in this fresh process and scores the test split with it,
/// the way an application would. It never touches TorchSharp, and says whether libtorch got loaded.
/// </summary>
internal static class PredictCommand
{
    public const string Usage = """
        predict --model FILE.zip [--data DIR] [--rows N] [--scores FILE.tsv]
          scores the test split (t10k files) of DIR with a saved model; --scores writes each row's predicted label and scores
        """;

    private static readonly HashSet<string> ValueOptions = ["--model", "--data", "--rows", "--scores"];

    public static int Run(IEnumerable<string> args)
    {
        var cl = new CommandLine(args, ValueOptions, new HashSet<string>());
        var modelPath = cl.Text("--model") ?? throw new UsageException("predict needs --model FILE.zip.");
        ModelArgument.Check(modelPath);
        var dataFolder = cl.Text("--data") ?? DataLocation.DefaultMnistFolder;
        var scoresPath = cl.Text("--scores");
        if (scoresPath is not null)
            OutputTarget.File(scoresPath, "--scores", "the scores to (FILE.tsv)");

        var mlContext = new MLContext();
        // Registers the arg-max step (saved models name it by contract) and turns a truncated or
        // foreign file into an error that says so.
        var model = BlockSparseModelFile.Load(mlContext, modelPath, out _);

        var rows = IdxDataset.Load(dataFolder, train: false, cl.Int("--rows", min: 1));
        var scored = model.Transform(IdxDataset.ToDataView(mlContext, rows));
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        Console.WriteLine($"rows {rows.Count}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"micro accuracy {metrics.MicroAccuracy:F6}"));

        if (scoresPath is not null)
        {
            var predicted = mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabelValue", "PredictedLabel").Fit(scored).Transform(scored);
            // Written as the model is: to a temporary file, then renamed, so a full disk leaves no truncated scores.
            OutputFile.Write(scoresPath, temporary =>
            {
                using var writer = new StreamWriter(temporary);
                foreach (var row in mlContext.Data.CreateEnumerable<ScoredRow>(predicted, reuseRowObject: false))
                    writer.WriteLine(row.PredictedLabelValue + "\t" + string.Join("\t", row.Score.Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
            });
        }

        // Scoring a saved model must not need the training runtime.
        bool libtorchLoaded = File.ReadLines("/proc/self/maps").Any(l => l.Contains("libtorch", StringComparison.Ordinal));
        Console.WriteLine($"libtorch loaded: {(libtorchLoaded ? "yes" : "no")}");
        return 0;
    }

    private sealed class ScoredRow
    {
        public string PredictedLabelValue { get; set; } = "";

        [VectorType]
        public float[] Score { get; set; } = Array.Empty<float>();
    }
}
