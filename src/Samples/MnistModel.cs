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
/// Builder's code, the one engine behind <see cref="Predict(ModelInput)"/> is not thread-safe: give each
/// thread its own from <see cref="CreatePredictEngine"/> (or use a <c>PredictionEnginePool</c> in a server).
/// </remarks>
public static class MnistModel
{
    /// <summary>
    /// One input row: the image file. No <c>Label</c>: <see cref="BlockSparseModelFile.Load"/> leaves out the saved
    /// pipeline's <c>MapValueToKey("Label")</c> when the input has no label.
    /// </summary>
    public sealed class ModelInput
    {
        [ColumnName("ImagePath")]
        public string ImagePath { get; set; } = "";
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

    /// <summary>
    /// The loaded model, shared by every engine: loading the zip and its ONNX session is the slow part.
    /// It is never disposed, since engines of other threads may still be scoring with it.
    /// </summary>
    private static readonly Lazy<(MLContext Context, ITransformer Model)> Loaded = new(Load, isThreadSafe: true);

    /// <summary>The engine <see cref="Predict(ModelInput)"/> uses, created on first use. Like every engine, not thread-safe.</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    /// <summary>Predicts the class of one image file.</summary>
    public static ModelOutput Predict(string imagePath) => Predict(new ModelInput { ImagePath = Path.GetFullPath(imagePath) });

    /// <summary>Predicts the class of one input row.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>
    /// A new engine over the shared model, for one thread. Disposing it leaves the model, and every
    /// other engine, working.
    /// </summary>
    /// <remarks>
    /// ML.NET's engines own their model by default (<c>PredictionEngineOptions.OwnsTransformer</c> is true):
    /// disposing one disposes the model's ONNX Runtime session under every other engine, which then fails
    /// (a NullReferenceException, or a crash when other threads are scoring). So engines here never own it.
    /// </remarks>
    public static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var (mlContext, model) = Loaded.Value;
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model, new PredictionEngineOptions { OwnsTransformer = false });
    }

    /// <summary>
    /// The class names in the order of <see cref="ModelOutput.Score"/>: the key values of the model's predicted label
    /// (which MapKeyToValue leaves in the output as a hidden column of the key type).
    /// </summary>
    public static IReadOnlyList<string> ClassNames()
    {
        var (_, model) = Loaded.Value;
        var output = model.GetOutputSchema(SchemaDefinition.Create(typeof(ModelInput)).Aggregate(
            new DataViewSchema.Builder(), (b, c) => { b.AddColumn(c.ColumnName, c.ColumnType); return b; }).ToSchema());
        foreach (var column in output)
        {
            if (column.Name == "PredictedLabel" && column.Type is KeyDataViewType)
            {
                VBuffer<ReadOnlyMemory<char>> names = default;
                column.GetKeyValues(ref names);
                return names.DenseValues().Select(n => n.ToString()).ToList();
            }
        }
        throw new InvalidOperationException($"Model '{ModelPath}' has no predicted label of a key type with class names.");
    }

    private static (MLContext, ITransformer) Load()
    {
        var mlContext = new MLContext();
        // Registers the saved model's arg-max step (a named custom mapping) and refuses a truncated or
        // corrupted zip with a message saying so.
        var model = BlockSparseModelFile.Load(mlContext, ModelPath, out var inputSchema);
        if (inputSchema.GetColumnOrNull("ImagePath") is null)
        {
            throw new InvalidOperationException(
                $"Model '{ModelPath}' does not read image files (its input columns: {string.Join(", ", inputSchema.Select(c => c.Name))}). "
                + "Train it on an image folder (train --data IMAGE_FOLDER); for IDX-trained models use the predict command.");
        }
        return (mlContext, model);
    }
}
