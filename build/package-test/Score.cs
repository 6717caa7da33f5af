// Package test, app 2: references only BlockSparse.MLNet.Scoring through a local feed, loads the zip the
// first app saved with plain mlContext.Model.Load (no RegisterAssembly), scores the same rows, and checks
// that neither TorchSharp nor libtorch was loaded.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 2)
    throw new ArgumentException("usage: Score MODEL.zip SCORES.txt");
var ml = new MLContext(seed: 1);
var model = ml.Model.Load(args[0], out var inputSchema);
// Rows without their label, as an app scores them.
var test = ml.Data.LoadFromEnumerable(Rows.Make(50, seed: 2).Select(r => new Input { Features = r.Features }));
var scored = model.Transform(test);
var scores = scored.GetColumn<float[]>("Score");
var predicted = scored.GetColumn<string>("PredictedLabel");
File.WriteAllLines(args[1], scores.Zip(predicted, (s, p) => p + " " + string.Join(' ', s.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));

// Through a prediction engine too, as an app would.
var engine = ml.Model.CreatePredictionEngine<Input, Output>(model);
var first = Rows.Make(1, seed: 2).First();
var prediction = engine.Predict(new Input { Features = first.Features });
Console.WriteLine($"first row ({first.Label}): predicted {prediction.PredictedLabel}, scores [{string.Join(", ", prediction.Score.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}]");

var assemblies = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").Order().ToList();
Console.WriteLine("loaded assemblies: " + string.Join(", ", assemblies.Where(a => !a.StartsWith("System", StringComparison.Ordinal))));
var torch = assemblies.Where(a => a.Contains("Torch", StringComparison.OrdinalIgnoreCase)).ToList();
if (torch.Count > 0)
    throw new InvalidOperationException("a scoring-only app loaded " + string.Join(", ", torch));
if (File.Exists("/proc/self/maps") && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libtorch", StringComparison.OrdinalIgnoreCase)))
    throw new InvalidOperationException("a scoring-only app mapped libtorch");
Console.WriteLine("no TorchSharp assembly and no libtorch loaded");

// Model Builder's style: the input class has the label column the saved pipeline starts from (MapValueToKey),
// left empty when scoring; an unseen label becomes the missing key, and the row is still scored.
sealed class Input
{
    public string Label { get; set; } = "";
    [VectorType(Rows.Length)] public float[] Features { get; set; } = [];
}

sealed class Output
{
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
