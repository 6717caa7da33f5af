using Microsoft.ML.Data;
using Microsoft.ML.BlockSparse.Export;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// Builds the inference half of a trained model from ML.NET's own transformers, so that
/// <c>mlContext.Model.Save</c>/<c>Load</c> round-trip it with nothing but public API and inference
/// needs ONNX Runtime, not TorchSharp: ONNX network (→ <c>Score</c>) → arg-max (→ class index) →
/// key mapping (→ <c>PredictedLabel</c> of the label's own key type) → drop the index column.
/// </summary>
internal static class ScoringPipeline
{
    public const string PredictedLabelColumnName = ScoringColumns.PredictedLabel;

    // decoding: for a model trained on encoded image bytes, the transforms from the bytes to featureColumnName's
    // pixels: they run first, and the pixel column is dropped at the end, so the model reads the bytes.
    public static ITransformer Build(byte[] onnxModel, string featureColumnName, DataViewSchema.Column label, int classCount, IDataView input,
        IEstimator<ITransformer>? decoding = null)
    {
        var context = new MLContext();
        context.ComponentCatalog.RegisterAssembly(typeof(ArgMaxMapping).Assembly);

        // The stream overload embeds the ONNX bytes in the saved zip (a path would be stored as a path).
        var scorer = context.Transforms.ApplyOnnxModel(
            new[] { OnnxExporter.ScoreName }, new[] { featureColumnName }, new MemoryStream(onnxModel, writable: false));
        var argMax = context.Transforms.CustomMapping<ArgMaxMapping.ScoreRow, ArgMaxMapping.ClassIndexRow>(
            ArgMaxMapping.Map, ArgMaxMapping.ContractName);
        var toKey = KeyMapping(context, label, classCount);
        var pipeline = scorer
            .Append(argMax)
            .Append(toKey)
            .Append(context.Transforms.DropColumns(ArgMaxMapping.ClassIndexColumnName));
        if (decoding is null)
            return pipeline.Fit(input);
        return decoding.Append(pipeline).Append(context.Transforms.DropColumns(featureColumnName)).Fit(input);
    }

    // Maps class index i to the text of the label's i-th key value, with treatValuesAsKeyType, which gives
    // PredictedLabel a key type of the label's class count whose raw value is i + 1 and whose key values are the
    // label's, in the label's order, so MapKeyToValue and the evaluators line it up with the label. Text, because
    // MapValue uses uint (and ulong) values directly as raw keys instead of numbering them from 1: mapping
    // i -> i made class 0 the missing key, and a label keyed over uint values (MapValueToKey on a uint column)
    // got its values as raw keys. ML.NET's annotation for such a mapping is text for every value type anyway.
    // A label without key values gets "1".."n", the raw keys themselves.
    private static IEstimator<ITransformer> KeyMapping(MLContext context, DataViewSchema.Column label, int classCount)
    {
        var names = LabelKeys.Values(label)
            ?? Enumerable.Range(1, classCount).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (names.Length != classCount)
            throw new InvalidOperationException($"Label column '{label.Name}' has {classCount} classes but {names.Length} key values.");
        // MapValue numbers the distinct values, so two equal texts would shift every later class by one.
        if (names.Distinct(StringComparer.Ordinal).Count() != classCount)
            throw new InvalidOperationException(
                $"Label column '{label.Name}' has key values whose texts repeat ({string.Join(", ", names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"'{g.Key}'"))}); "
                + "expected one distinct key value per class, as MapValueToKey gives.");
        var pairs = names.Select((name, i) => new KeyValuePair<uint, string>((uint)i, name));
        return context.Transforms.Conversion.MapValue(PredictedLabelColumnName, pairs, ArgMaxMapping.ClassIndexColumnName, treatValuesAsKeyType: true);
    }
}
