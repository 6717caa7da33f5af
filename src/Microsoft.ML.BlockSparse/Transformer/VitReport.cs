using Microsoft.ML.BlockSparse.Reporting;

namespace Microsoft.ML.BlockSparse.Transformer;

/// <summary>
/// The Vision Transformer's rows of the sparsity report: each encoder linear layer by name, with its costs per
/// example (a layer runs once per token), and one dense row for what is dense by design (position embedding,
/// LayerNorms, and the attention products <c>q·kᵀ</c> and <c>softmax·v</c>), so the totals compare whole networks.
/// </summary>
/// <remarks>Elementwise work (LayerNorm, softmax, GELU) is not counted, as the MLP's ReLU is not.</remarks>
internal static class VitReport
{
    public const string DenseRowName = "attention+norms";

    public static IEnumerable<LayerSparsity> Rows(VisionTransformerEncoder encoder)
    {
        var plan = encoder.Plan;
        int tokens = plan.Tokens, index = 0;
        foreach (var (name, layer) in encoder.NamedLayers)
        {
            yield return PerExample(layer.Describe(index), name, tokens);
            index++;
        }
        // Two products of [T, d] by [T, d] shapes per block: q·kᵀ (T·T·d multiply-adds) and softmax·v (the same).
        long attention = 2L * 2 * tokens * tokens * plan.Shape.Dimension * plan.Shape.Depth;
        long parameters = encoder.DenseParameters;
        yield return new LayerSparsity
        {
            Index = index,
            Name = DenseRowName,
            InFeatures = plan.Shape.Dimension,
            OutFeatures = plan.Shape.Dimension,
            Factored = false,
            DenseReason = "position embedding, LayerNorms and the attention products (q·kᵀ, softmax·v) are dense by design",
            TrainableParameters = parameters,
            DenseParameters = parameters,
            TrainingFlopsPerExample = 3 * attention,
            DenseTrainingFlopsPerExample = 3 * attention,
            InferenceFlopsPerExample = attention,
            DenseInferenceFlopsPerExample = attention,
        };
    }

    /// <summary>The layer's per-row figures as per-example ones (FLOPs × <paramref name="tokens"/>, the rows it runs on per example), under its name.</summary>
    public static LayerSparsity PerExample(LayerSparsity row, string name, int tokens) => new()
    {
        Index = row.Index,
        Name = name,
        InFeatures = row.InFeatures,
        OutFeatures = row.OutFeatures,
        Factored = row.Factored,
        DenseReason = row.DenseReason,
        PlanNote = row.PlanNote,
        BlockShape = row.BlockShape,
        CandidateBlockShapes = row.CandidateBlockShapes,
        Rank = row.Rank,
        Blocks = row.Blocks,
        ZeroBlocks = row.ZeroBlocks,
        TrainableParameters = row.TrainableParameters,
        DenseParameters = row.DenseParameters,
        TrainingFlopsPerExample = row.TrainingFlopsPerExample * tokens,
        DenseTrainingFlopsPerExample = row.DenseTrainingFlopsPerExample * tokens,
        InferenceFlopsPerExample = row.InferenceFlopsPerExample * tokens,
        DenseInferenceFlopsPerExample = row.DenseInferenceFlopsPerExample * tokens,
    };
}
