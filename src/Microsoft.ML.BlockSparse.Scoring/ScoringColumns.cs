namespace Microsoft.ML.BlockSparse;

/// <summary>The columns a BlockSparse model adds to its input, as every ML.NET multiclass trainer does.</summary>
public static class ScoringColumns
{
    /// <summary>One probability per class, in the order of the label's key values; also the ONNX network's output name.</summary>
    public const string Score = "Score";

    /// <summary>The class with the highest score, of the label's key type.</summary>
    public const string PredictedLabel = "PredictedLabel";
}
