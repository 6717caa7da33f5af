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
    private const string KeyValuesKind = "KeyValues";

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

    // Maps class index i to the label's i-th key value with treatValuesAsKeyType, which gives
    // PredictedLabel a key type whose values (and their order) are the label's, so MapKeyToValue and
    // the evaluators treat it as the label's type.
    private static IEstimator<ITransformer> KeyMapping(MLContext context, DataViewSchema.Column label, int classCount)
    {
        var keyValues = label.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (keyValues is null)
        {
            var indices = Enumerable.Range(0, classCount).Select(i => (uint)i).ToArray();
            return context.Transforms.Conversion.MapValue(PredictedLabelColumnName,
                indices.Select(i => new KeyValuePair<uint, uint>(i, i)), ArgMaxMapping.ClassIndexColumnName, treatValuesAsKeyType: true);
        }
        var itemType = ((VectorDataViewType)keyValues.Value.Type).ItemType.RawType;
        var method = typeof(ScoringPipeline).GetMethod(nameof(KeyMappingOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(itemType == typeof(ReadOnlyMemory<char>) ? typeof(string) : itemType);
        return (IEstimator<ITransformer>)method.Invoke(null, new object[] { context, label, classCount })!;
    }

    private static IEstimator<ITransformer> KeyMappingOf<TValue>(MLContext context, DataViewSchema.Column label, int classCount)
    {
        var values = new List<TValue>(classCount);
        if (typeof(TValue) == typeof(string))
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            label.GetKeyValues(ref names);
            values.AddRange(names.DenseValues().Select(v => (TValue)(object)v.ToString()));
        }
        else
        {
            VBuffer<TValue> raw = default;
            label.GetKeyValues(ref raw);
            values.AddRange(raw.DenseValues());
        }
        if (values.Count != classCount)
            throw new InvalidOperationException($"Label column '{label.Name}' has {classCount} classes but {values.Count} key values.");
        var pairs = values.Select((v, i) => new KeyValuePair<uint, TValue>((uint)i, v));
        return context.Transforms.Conversion.MapValue(PredictedLabelColumnName, pairs, ArgMaxMapping.ClassIndexColumnName, treatValuesAsKeyType: true);
    }
}
