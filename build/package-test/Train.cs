// Package test, app 1: references the BlockSparse.MLNet package (and the Linux CPU natives) through a local
// feed, trains on synthetic data, saves the model and writes the scores it gives in this training process.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 2)
    throw new ArgumentException("usage: Train MODEL.zip SCORES.txt");
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadFromEnumerable(Rows.Make(600, seed: 1));
// The label is text: made a key for training, and PredictedLabel (a key of the same type) mapped back to text.
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.BlockSparse(hiddenLayers: [16], epochs: 8, seed: 1, progress: new Progress()))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var model = pipeline.Fit(train);
ml.Model.Save(model, train.Schema, args[0]);

var test = ml.Data.LoadFromEnumerable(Rows.Make(50, seed: 2));
var scored = model.Transform(test);
var scores = scored.GetColumn<float[]>("Score");
var predicted = scored.GetColumn<string>("PredictedLabel");
File.WriteAllLines(args[1], scores.Zip(predicted, (s, p) => p + " " + string.Join(' ', s.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
var accuracy = (double)predicted.Zip(Rows.Make(50, seed: 2), (p, row) => p == row.Label).Count(same => same) / 50;
Console.WriteLine($"trained and saved {args[0]}; test accuracy {accuracy:P1}");
if (accuracy < 0.8)
    throw new InvalidOperationException($"accuracy {accuracy:P1} on separable synthetic data; expected at least 80 %");

sealed class Progress : IProgress<Microsoft.ML.BlockSparse.EpochSummary>
{
    public void Report(Microsoft.ML.BlockSparse.EpochSummary value) => Console.WriteLine(value);
}
