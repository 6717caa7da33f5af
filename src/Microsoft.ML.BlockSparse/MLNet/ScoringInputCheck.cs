using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// Checks data handed to a trained model against what it was trained on, before ONNX Runtime sees
/// it: the feature vector's length, and (when the data has the label column as a key) the label's
/// classes, which the evaluators compare by key index.
/// </summary>
internal sealed record ScoringInputCheck(string FeatureColumnName, int FeatureLength, string LabelColumnName, int ClassCount, string[]? KeyValues)
{
    /// <summary>Whether the model reads encoded image bytes (and decodes them itself) rather than pixels.</summary>
    public bool EncodedImages { get; init; }

    public void Check(DataViewSchema schema)
    {
        if (EncodedImages)
            CheckEncodedImages(schema);
        else
            CheckFeatures(schema);
        CheckLabel(schema);
    }

    private void CheckEncodedImages(DataViewSchema schema)
    {
        var column = schema.GetColumnOrNull(FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException("inputSchema",
                $"The image column '{FeatureColumnName}' the model reads is not in the input. Columns present: "
                + $"{string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}.");
        if (!EncodedImageInput.IsEncodedImages(column.Type))
        {
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Image column '{FeatureColumnName}' is {column.Type}; the model reads encoded image bytes (byte[], a vector of Byte), as it was trained on.");
        }
    }

    private void CheckFeatures(DataViewSchema schema)
    {
        var features = schema.GetColumnOrNull(FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException("inputSchema",
                $"The feature column '{FeatureColumnName}' the model reads is not in the input. Columns present: "
                + $"{string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}.");
        if (features.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single)
        {
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Feature column '{FeatureColumnName}' is {features.Type}; the model needs a vector of {FeatureLength} Single (float) values.");
        }
        if (vector.Size != FeatureLength)
        {
            var actual = vector.IsKnownSize ? $"{vector.Size} values per row" : "a vector of variable size";
            throw new ArgumentOutOfRangeException("inputSchema",
                $"Feature column '{FeatureColumnName}' has {actual}, but the model was trained on {FeatureLength}. "
                + "Prepare the data with the same transforms as the training data (the fitted pipeline does that).");
        }
    }

    private void CheckLabel(DataViewSchema schema)
    {
        if (schema.GetColumnOrNull(LabelColumnName) is { Type: KeyDataViewType key } label)
        {
            if (key.Count != (ulong)ClassCount)
            {
                throw new ArgumentOutOfRangeException("inputSchema",
                    $"Label column '{LabelColumnName}' is a key of {key.Count} classes in this data, but the model was trained on {ClassCount}. "
                    + "The evaluators compare labels and predictions by key index, so the metrics would be wrong: map this data's labels "
                    + "with the MapValueToKey transformer fitted on the training data (transform with the whole fitted pipeline), not one fitted on this data.");
            }
            if (KeyValues is not null && LabelKeys.Values(label) is { } values && LabelKeys.FirstDifference(KeyValues, values) is { } difference)
            {
                throw new ArgumentOutOfRangeException("inputSchema",
                    $"Label column '{LabelColumnName}' has the model's {ClassCount} classes, but in another order or with other values ({difference.Replace(" there ", " here ")}). "
                    + "The evaluators compare by key index, so the metrics would be wrong: map this data's labels with the MapValueToKey "
                    + "transformer fitted on the training data.");
            }
        }
    }
}
