using Microsoft.ML;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.Data;

namespace Samples;

/// <summary>
/// Consumes a model that <c>train --data IMAGE_FOLDER</c> saved, the way Model Builder's generated
/// <c>MLModel.consumption.cs</c> does: input and output classes, a lazily created
/// <see cref="PredictionEngine{TSrc, TDst}"/> over the saved zip, and a static <c>Predict</c>.
/// Copy it into an application, point <see cref="ModelPath"/> at the zip, and call
/// <c>MnistModel.Predict("digit.png").PredictedLabel</c>.
/// </summary>
/// <remarks>
/// Scoring runs ML.NET's image transforms and ONNX Runtime; TorchSharp is not loaded. As in Model
/// Builder's code, the one engine is not thread-safe: use a <c>PredictionEnginePool</c> in a server.
/// </remarks>
public static class MnistModel
{
    /// <summary>One input row: the image file. <c>Label</c> is only there because the saved pipeline names it; leave it empty.</summary>
    public sealed class ModelInput
    {
        [ColumnName("ImagePath")]
        public string ImagePath { get; set; } = "";

        [ColumnName("Label")]
        public string Label { get; set; } = "";
    }

    /// <summary>The prediction: the class name and one probability per class (in the order of the training labels' key values).</summary>
    public sealed class ModelOutput
    {
        [ColumnName("PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        [ColumnName("Score")]
        public float[] Score { get; set; } = [];
    }

    /// <summary>The saved model. Set it before the first prediction. Default <c>MnistModel.zip</c> in the working folder.</summary>
    public static string ModelPath { get; set; } = Path.GetFullPath("MnistModel.zip");

    /// <summary>Created on first use, then reused: loading the zip and its ONNX session is the slow part.</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    /// <summary>Predicts the class of one image file.</summary>
    public static ModelOutput Predict(string imagePath) => Predict(new ModelInput { ImagePath = Path.GetFullPath(imagePath) });

    /// <summary>Predicts the class of one input row.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        // The saved model's arg-max step is a named custom mapping; ML.NET finds it in registered assemblies.
        mlContext.ComponentCatalog.RegisterAssembly(typeof(ArgMaxMapping).Assembly);
        var model = mlContext.Model.Load(ModelPath, out var inputSchema);
        if (inputSchema.GetColumnOrNull("ImagePath") is null)
        {
            throw new InvalidOperationException(
                $"Model '{ModelPath}' does not read image files (its input columns: {string.Join(", ", inputSchema.Select(c => c.Name))}). "
                + "Train it on an image folder (train --data IMAGE_FOLDER); for IDX-trained models use the predict command.");
        }
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }
}
