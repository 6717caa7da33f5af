namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// How one layer will be built: factored with one or more candidate block shapes, or dense and why
/// (optionally with a group-lasso block shape).
/// </summary>
internal sealed record LayerPlan(int InFeatures, int OutFeatures, IReadOnlyList<BlockShape> Candidates, string? DenseReason,
    BlockShape? PenaltyBlock = null)
{
    public bool Factored => Candidates.Count > 0;

    /// <summary>The block shape of a factored layer with a single candidate; null otherwise.</summary>
    public BlockShape? Block => Candidates.Count == 1 ? Candidates[0] : null;

    public static LayerPlan Dense(int inFeatures, int outFeatures, string reason, BlockShape? penaltyBlock = null)
        => new(inFeatures, outFeatures, [], reason, penaltyBlock);

    /// <summary>Plans a Kronecker MLP with one block shape per layer (see <see cref="ForMlp(int, IReadOnlyList{int}, int, PlanRequest)"/>).</summary>
    public static IReadOnlyList<LayerPlan> ForMlp(int inputSize, IReadOnlyList<int> hidden, int classes,
        int rank, BlockShape? sharedBlock, IReadOnlyList<BlockShape?>? perLayerBlocks)
        => ForMlp(inputSize, hidden, classes, new PlanRequest(BlockSparseMethod.Kronecker, rank, sharedBlock, perLayerBlocks, null, false));

    /// <summary>
    /// Plans every layer of an MLP <c>in → hidden… → classes</c>. The block shapes a layer may use come
    /// from, first to last: the explicit candidate lists, one shape per layer, one shared shape, the
    /// automatic candidate search, the automatic single shape (<see cref="BlockShapeCandidates"/>).
    /// Dense trains every layer dense; GroupLasso trains them dense with a penalty over blocks of the
    /// shape Kronecker would use (its first candidate).
    /// </summary>
    public static IReadOnlyList<LayerPlan> ForMlp(int inputSize, IReadOnlyList<int> hidden, int classes, PlanRequest request)
    {
        var sizes = new List<int> { inputSize };
        sizes.AddRange(hidden);
        sizes.Add(classes);
        var plans = new List<LayerPlan>();
        for (int i = 0; i + 1 < sizes.Count; i++)
        {
            var kronecker = PlanKronecker(sizes[i], sizes[i + 1], i, request);
            plans.Add(request.Method switch
            {
                BlockSparseMethod.Dense => Dense(kronecker.InFeatures, kronecker.OutFeatures, "Method is Dense"),
                BlockSparseMethod.GroupLasso => Dense(kronecker.InFeatures, kronecker.OutFeatures,
                    kronecker.Factored ? "Method is GroupLasso" : kronecker.DenseReason!,
                    kronecker.Factored ? kronecker.Candidates[0] : null),
                _ => kronecker,
            });
        }
        return plans;
    }

    private static LayerPlan PlanKronecker(int inF, int outF, int index, PlanRequest request)
    {
        if (request.PerLayerCandidates?[index] is { } listed)
        {
            var misfits = listed.Where(b => !b.Divides(inF, outF)).ToList();
            return misfits.Count == 0
                ? new LayerPlan(inF, outF, listed, null)
                : Dense(inF, outF, $"candidate block {misfits[0]} does not tile its {outF}x{inF} weight (rows must divide {outF}, columns {inF})");
        }
        var requested = request.PerLayerBlocks is { } perLayer ? perLayer[index] : request.SharedBlock;
        if (requested is { } block)
        {
            return block.Divides(inF, outF)
                ? new LayerPlan(inF, outF, [block], null)
                : Dense(inF, outF, $"block {block} does not tile its {outF}x{inF} weight (rows must divide {outF}, columns {inF})");
        }
        var automatic = request.SearchBlockShapes
            ? BlockShapeCandidates.Search(inF, outF, request.Rank)
            : BlockShapeCandidates.Balanced(inF, outF, request.Rank) is { } balanced ? [balanced] : [];
        return automatic.Count > 0
            ? new LayerPlan(inF, outF, automatic, null)
            : Dense(inF, outF, $"at rank {request.Rank} the automatic block shape would not save both parameters and FLOPs on a {outF}x{inF} layer");
    }
}

/// <summary>What <see cref="LayerPlan.ForMlp(int, IReadOnlyList{int}, int, PlanRequest)"/> plans from; per-layer lists hold one entry per layer.</summary>
internal sealed record PlanRequest(
    BlockSparseMethod Method,
    int Rank,
    BlockShape? SharedBlock,
    IReadOnlyList<BlockShape?>? PerLayerBlocks,
    IReadOnlyList<IReadOnlyList<BlockShape>>? PerLayerCandidates,
    bool SearchBlockShapes);
