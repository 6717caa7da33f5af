namespace Microsoft.ML.BlockSparse.Reporting;

/// <summary>One layer's line of the <see cref="SparsityReport"/>, each cost beside the dense layer's.</summary>
public sealed class LayerSparsity
{
    /// <summary>Position in the network, 0 = the layer that reads the features.</summary>
    public int Index { get; init; }

    /// <summary>
    /// A readable name where the position alone does not say which layer it is (a Vision Transformer's
    /// <c>patch</c>, <c>block0.qkv</c>, ..., <c>head</c>); null for the MLP's and LeNet5's layers.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>The name if there is one, else the index: how the table and its notes refer to the layer.</summary>
    internal string Label => Name ?? Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Input features of the layer.</summary>
    public int InFeatures { get; init; }

    /// <summary>Output features of the layer.</summary>
    public int OutFeatures { get; init; }

    /// <summary>True for a Kronecker-factored layer; false for a layer that stayed dense.</summary>
    public bool Factored { get; init; }

    /// <summary>Why the layer stayed dense (null when factored).</summary>
    public string? DenseReason { get; init; }

    /// <summary>
    /// Where a factored layer's block shapes are not what the options asked for, why: with
    /// <c>ShapeSearchFlopFraction</c>, a layer where no shape fits the budget is trained with the automatic shape,
    /// which costs more than the budget (the note gives its share of the dense FLOPs). Null otherwise.
    /// </summary>
    public string? PlanNote { get; init; }

    /// <summary>
    /// Block shape <c>"MxN"</c> (rows × columns of one block): of a factored layer the shape(s) that survived
    /// (joined by <c>+</c> if λ2 left several), of a group-lasso layer its penalty's shape; null when plainly dense.
    /// </summary>
    public string? BlockShape { get; init; }

    /// <summary>The candidate block shapes the layer started with, when it had more than one (null otherwise); in JSON as <c>"MxN"</c>.</summary>
    public IReadOnlyList<BlockShape>? CandidateBlockShapes { get; init; }

    /// <summary>Kronecker rank <c>r</c>; 0 when dense.</summary>
    public int Rank { get; init; }

    /// <summary>Blocks in the weight, <c>p·q</c> (summed over surviving candidates); 0 when plainly dense.</summary>
    public long Blocks { get; init; }

    /// <summary>Blocks whose gate is exactly zero: the whole block of the weight is zero.</summary>
    public long ZeroBlocks { get; init; }

    /// <summary>Fraction of blocks that are zero (0 when dense).</summary>
    public double BlockSparsity => Blocks == 0 ? 0 : (double)ZeroBlocks / Blocks;

    /// <summary>Parameters trained for this layer (factors and bias).</summary>
    public long TrainableParameters { get; init; }

    /// <summary>Parameters of the dense layer of the same sizes (weight and bias).</summary>
    public long DenseParameters { get; init; }

    /// <summary>FLOPs per example per training step (3 × forward; a multiply-add is 2 FLOPs).</summary>
    public long TrainingFlopsPerExample { get; init; }

    /// <summary>The dense layer's training FLOPs per example.</summary>
    public long DenseTrainingFlopsPerExample { get; init; }

    /// <summary>FLOPs per example at inference, zero blocks skipped.</summary>
    public long InferenceFlopsPerExample { get; init; }

    /// <summary>The dense layer's inference FLOPs per example.</summary>
    public long DenseInferenceFlopsPerExample { get; init; }
}
