using Microsoft.ML.BlockSparse.ModelFiles;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Loads a saved BlockSparse model zip with errors that say what is wrong with the file, instead of
/// ML.NET's generic ones ("Failed to open a zip archive", "Could not load legacy format model").
/// </summary>
public static class BlockSparseModelFile
{
    /// <summary>
    /// Registers the arg-max and image-decoding mappings with <paramref name="mlContext"/> and loads the model that
    /// <c>mlContext.Model.Save</c> wrote to <paramref name="path"/>. The model predicts from input without the
    /// label column (see <see cref="WithOptionalLabel"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no such file, or the path is a folder.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a complete zip (truncated), an entry's data does not match the CRC-32 checksum the zip
    /// stores for it (corrupted after saving), the file is a zip but not an ML.NET model, its ONNX network reads
    /// an input of another name than the column the model feeds it, or the file is a
    /// model whose output has no <c>Score</c> and <c>PredictedLabel</c> columns.
    /// </exception>
    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path))
            throw new FileNotFoundException($"Model file '{path}' is a folder; expected the zip file that mlContext.Model.Save wrote.", path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        mlContext.ComponentCatalog.RegisterAssembly(typeof(ArgMaxMapping).Assembly);

        ZipIntegrity.Check(path);

        ITransformer model;
        try
        {
            model = mlContext.Model.Load(path, out inputSchema);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or IOException)
        {
            throw new InvalidDataException(
                $"Model file '{path}' is a zip archive but not a loadable ML.NET model ({Innermost(e).Message}); "
                + "expected a zip written by mlContext.Model.Save.", e);
        }

        DataViewSchema output;
        try
        {
            output = model.GetOutputSchema(inputSchema);
        }
        catch (ArgumentOutOfRangeException e) when (OnnxInputMismatch.Match(Innermost(e).Message) is { Success: true } names)
        {
            // OnnxTransformer checks its input names against the network when it first meets a schema.
            (model as IDisposable)?.Dispose();
            throw new InvalidDataException(
                $"Model file '{path}' has an ONNX network that reads the input '{names.Groups["has"].Value}', but the model feeds it the column "
                + $"'{names.Groups["fed"].Value}'; expected the network the trainer exported, whose input is named after the feature column.", e);
        }
        if (output.GetColumnOrNull(ScoringColumns.Score) is null || output.GetColumnOrNull(ScoringColumns.PredictedLabel) is null)
        {
            (model as IDisposable)?.Dispose();
            throw new InvalidDataException(
                $"Model file '{path}' is an ML.NET model, but not a classifier: its output lacks the "
                + $"'{ScoringColumns.Score}' and '{ScoringColumns.PredictedLabel}' columns a BlockSparse model produces.");
        }
        return WithOptionalLabel(model);
    }

    /// <summary>
    /// <paramref name="model"/>, able to predict from input without the label column: a <c>MapValueToKey</c> step of
    /// the pipeline whose input column is absent is left out, so a Model Builder style pipeline
    /// (<c>MapValueToKey("Label") → BlockSparse → MapKeyToValue("PredictedLabel")</c>) predicts from a class that has
    /// only the image column. <see cref="Load"/> returns models in this form already; this is for a pipeline just fitted.
    /// With the label present every step runs as before, and saving the result saves <paramref name="model"/>.
    /// </summary>
    /// <returns>The model itself when it is not a <see cref="TransformerChain{TLastTransformer}"/>.</returns>
    public static ITransformer WithOptionalLabel(ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model switch
        {
            OptionalLabelModel => model,
            IEnumerable<ITransformer> steps when model.GetType().IsGenericType && model.GetType().GetGenericTypeDefinition() == typeof(TransformerChain<>)
                => new OptionalLabelModel(model, steps),
            _ => model,
        };
    }

    // ML.NET 5's OnnxTransformer: "Input tensor, {column}, does not exist in the ONNX model. Available input names are [{names}]."
    private static readonly System.Text.RegularExpressions.Regex OnnxInputMismatch = new(
        @"Input tensor, (?<fed>.+?), does not exist in the ONNX model\. Available input names are \[(?<has>[^\]]*)\]");

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }
}
