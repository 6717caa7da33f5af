// Every ```csharp block of README.md, as written there, so that it compiles with the project
// (ReadmeSnippetTests checks that each README block appears here verbatim). The methods are not run:
// they train on full MNIST or write files in the working folder. Parameters stand for what earlier
// snippets defined (`ml`, `train`, `model`), as the README says.
using Microsoft.ML;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Data;   // IdxDataset, ImageFolder, ImagePipelines: package BlockSparse.MLNet.Data
using Microsoft.ML.Data;
using Samples;

#pragma warning disable CS8321, IDE0051, IDE0059  // local functions and values kept as the README shows them

namespace Microsoft.ML.BlockSparse.Tests;

internal static class ReadmeSnippets
{
    public static void Usage()
    {
var mnistFolder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache/blocksparse/mnist");
var ml = new MLContext(seed: 0);
var train = IdxDataset.ToDataView(ml, IdxDataset.Load(mnistFolder, train: true));   // Label (text), Pixels (float[784])
var test = IdxDataset.ToDataView(ml, IdxDataset.Load(mnistFolder, train: false));

var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.BlockSparse(labelColumnName: "Label", featureColumnName: "Pixels"));
var model = pipeline.Fit(train);

var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
Console.WriteLine($"accuracy {metrics.MicroAccuracy:P2}");
Console.Write(model.LastTransformer.Report.ToTable());        // File.WriteAllText("report.json", ….Report.ToJson())

// PredictedLabel is a key of the label's key type (what Evaluate needs). For apps, map it back to the digit's text:
var forApps = model.Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(model.Transform(train)));
ml.Model.Save(forApps, train.Schema, "digits.zip");
    }

    public static void AllOptions(MLContext ml, IProgress<EpochSummary> myProgress)
    {
var trainer = ml.MulticlassClassification.Trainers.BlockSparse(new BlockSparseTrainer.Options
{
    FeatureColumnName = "Pixels", HiddenLayers = [300, 100], Rank = 4, BlockShape = new BlockShape(10, 28),
    Epochs = 30, Seed = 1, Device = ComputeDevice.Auto,
    Progress = myProgress,      // IProgress<EpochSummary>, called synchronously once per epoch
    LogContext = ml,            // also send each epoch's line to ml.Log (ML.NET's log channel)
});
    }

    public static void Loading()
    {
var ml = new MLContext();
var model = ml.Model.Load("digits.zip", out var inputSchema);
// One engine per thread (an engine is not thread-safe), none owning the shared model: with ML.NET's default
// (OwnsTransformer = true) disposing any engine disposes the model's ONNX session under all the others.
var engine = ml.Model.CreatePredictionEngine<DigitInput, DigitPrediction>(model, new PredictionEngineOptions { OwnsTransformer = false });
DigitPrediction prediction = engine.Predict(new DigitInput { Pixels = new float[784] });
Console.WriteLine($"{prediction.PredictedLabel} {prediction.Score.Max():P1}");
    }

public sealed class DigitInput
{
    public string Label { get; set; } = "";                  // the saved pipeline starts with MapValueToKey("Label"): leave it empty
    [VectorType(784)] public float[] Pixels { get; set; } = [];
}

public sealed class DigitPrediction
{
    public string PredictedLabel { get; set; } = "";         // text, thanks to MapKeyToValue before saving
    public float[] Score { get; set; } = [];                 // one probability per class, in the order of the label's keys
}

    public static void ExportOnnx(TransformerChain<BlockSparseModel> model)
    {
using (var onnx = File.Create("digits.onnx"))
    model.LastTransformer.SaveOnnx(onnx);                                  // in the training process
File.WriteAllBytes("digits.onnx", OnnxNetworkFile.Read("digits.zip"));      // or from a saved zip (BlockSparse.MLNet.Scoring)
    }

    public static void ImportanceAndCrossValidation(MLContext ml, IDataView train)
    {
var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(train).Transform(train);
using BlockSparseModel model = ml.MulticlassClassification.Trainers.BlockSparse(featureColumnName: "Pixels", epochs: 5).Fit(keyed);
var importance = ml.MulticlassClassification.PermutationFeatureImportance(model, keyed, permutationCount: 3);
Console.WriteLine($"shuffling pixel 300 changes accuracy by {importance[300].MicroAccuracy.Mean:+0.000;-0.000}");

var folds = ml.MulticlassClassification.CrossValidate(keyed,
    ml.MulticlassClassification.Trainers.BlockSparse(featureColumnName: "Pixels", epochs: 5, progress: new EpochPrinter()), numberOfFolds: 5);
Console.WriteLine($"mean accuracy {folds.Average(f => f.Metrics.MicroAccuracy):P2}");
    }

// Progress through the catalog overload's named arguments: one call per epoch, on the training thread.
sealed class EpochPrinter : IProgress<EpochSummary>
{
    public void Report(EpochSummary epoch) => Console.WriteLine(epoch);   // "epoch   3/5  loss 0.2100 ... train acc 94.10 % ..."
}

    public static void Checkpoints()
    {
using var stop = new CancellationTokenSource();
var options = new BlockSparseTrainer.Options
{
    FeatureColumnName = "Pixels",
    CheckpointDirectory = "checkpoints/run1",
    ValidationFraction = 0.1, EarlyStoppingPatience = 3,
    CancellationToken = stop.Token,
};
// ... Fit throws OperationCanceledException if stop.Cancel() is called; later, with the same options and data:
options.ResumeFrom = "checkpoints/run1";      // continues after the newest checkpoint, and keeps writing there
    }

    public static void ImageFolders(MLContext ml)
    {
var (train, test) = ImageFolder.LoadSplit(ml, "digits/", testFraction: 0.2, seed: 1);  // columns ImagePath, Label
var shape = new ImageShape(1, 28, 28);                                                 // channels, height, width
var pipeline = ImagePipelines.Featurize(ml, shape)       // LoadImages → ConvertToGrayscale → ResizeImages → ExtractPixels → "Features"
    .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
    .Append(ml.MulticlassClassification.Trainers.BlockSparse(new BlockSparseTrainer.Options { ImageShape = shape }))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));                  // class names out, as Model Builder does
                                                          // (Evaluate needs the key: evaluate without this last step)
    }

    public static void ModelBuilderTraining(MLContext ml, IDataView trainingData)
    {
// Model Builder's generated training code, with BlockSparse(...) in place of ImageClassification(...).
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Label")
    .Append(ml.MulticlassClassification.Trainers.BlockSparse(labelColumnName: "Label", featureColumnName: "ImageSource"))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel", "PredictedLabel"));
ITransformer model = pipeline.Fit(trainingData);          // rows of ModelInput { string Label; byte[] ImageSource }
ml.Model.Save(model, trainingData.Schema, "MLModel.zip");
    }

public sealed class ModelInput
{
    [ColumnName("Label")] public string Label { get; set; } = "";          // may be left out, see below
    [ColumnName("ImageSource")] public byte[] ImageSource { get; set; } = [];
}

public sealed class ModelOutput
{
    [ColumnName("PredictedLabel")] public string PredictedLabel { get; set; } = "";
    [ColumnName("Score")] public float[] Score { get; set; } = [];
}

    public static void ModelBuilderConsumption()
    {
var ml = new MLContext();
ITransformer model = BlockSparseModelFile.Load(ml, "MLModel.zip", out _);   // registers the model's mappings
var engine = ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
ModelOutput result = engine.Predict(new ModelInput { ImageSource = File.ReadAllBytes("photo.jpg") });
Console.WriteLine($"{result.PredictedLabel} {result.Score.Max():P1}");
    }

    public static void ModelBuilderWay()
    {
MnistModel.ModelPath = "artifacts/mnist-images.zip";
MnistModel.ModelOutput result = MnistModel.Predict("/tmp/mnist-png/test/7/00001.png");
Console.WriteLine($"{result.PredictedLabel} {result.Score.Max():F4}");   // as predict-image prints: 7 0.9999
    }
}
