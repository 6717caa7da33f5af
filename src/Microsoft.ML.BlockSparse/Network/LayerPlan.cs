using System.Globalization;
using Microsoft.ML.BlockSparse.Layers;

namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// How one layer will be built: factored with one or more candidate block shapes at its own Kronecker
/// <see cref="Rank"/>, or dense and why (optionally with a group-lasso block shape). The plan carries all the
/// layer needs, so the network is built from plans alone.
/// </summary>
internal sealed record LayerPlan(int InFeatures, int OutFeatures, IReadOnlyList<BlockShape> Candidates, int Rank, string? DenseReason,
    BlockShape? PenaltyBlock = null)
{
    /// <summary>Where a factored layer's shapes are not what the request asked for, why (for the report); null otherwise.</summary>
    public string? Note { get; init; }

    public bool Factored => Candidates.Count > 0;

    /// <summary>The block shape of a factored layer with a single candidate; null otherwise.</summary>
    public BlockShape? Block => Candidates.Count == 1 ? Candidates[0] : null;

    public static LayerPlan Dense(int inFeatures, int outFeatures, string reason, BlockShape? penaltyBlock = null)
        => new(inFeatures, outFeatures, [], 0, reason, penaltyBlock);

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
        => ForMethod(KroneckerMlp(inputSize, hidden, classes, request), request.Method);

    /// <summary>The Kronecker plan of every layer, whatever <see cref="PlanRequest.Method"/> says: the shapes are checked against it.</summary>
    public static IReadOnlyList<LayerPlan> KroneckerMlp(int inputSize, IReadOnlyList<int> hidden, int classes, PlanRequest request)
    {
        var sizes = new List<int> { inputSize };
        sizes.AddRange(hidden);
        sizes.Add(classes);
        var plans = new List<LayerPlan>();
        for (int i = 0; i + 1 < sizes.Count; i++)
            plans.Add(PlanKronecker(sizes[i], sizes[i + 1], i, i + 2 == sizes.Count, request));
        return plans;
    }

    /// <summary>
    /// The Kronecker plan of layers that are not a chain (a transformer's), one per <c>(in, out)</c> pair, with the
    /// same rules and per-layer lists as <see cref="KroneckerMlp"/>; the last pair is the output layer.
    /// </summary>
    public static IReadOnlyList<LayerPlan> KroneckerLayers(IReadOnlyList<(int In, int Out)> sizes, PlanRequest request)
        => sizes.Select((s, i) => PlanKronecker(s.In, s.Out, i, i + 1 == sizes.Count, request)).ToList();

    /// <summary>
    /// The layers <paramref name="method"/> trains, from their Kronecker plan: Dense trains every layer dense;
    /// GroupLasso trains them dense with a penalty over blocks of the shape Kronecker would use (its first candidate).
    /// </summary>
    public static IReadOnlyList<LayerPlan> ForMethod(IReadOnlyList<LayerPlan> kronecker, BlockSparseMethod method)
        => method switch
        {
            BlockSparseMethod.Dense => kronecker.Select(k => Dense(k.InFeatures, k.OutFeatures, "Method is Dense")).ToList(),
            BlockSparseMethod.GroupLasso => kronecker.Select(k => Dense(k.InFeatures, k.OutFeatures,
                k.Factored ? "Method is GroupLasso" : k.DenseReason!, k.Factored ? k.Candidates[0] : null)).ToList(),
            _ => kronecker,
        };

    // outputLayer: the last layer, whose rows are the classes (see BlockShapeCandidates.Automatic).
    private static LayerPlan PlanKronecker(int inF, int outF, int index, bool outputLayer, PlanRequest request)
    {
        if (request.PerLayerCandidates?[index] is { } listed)
        {
            var misfits = listed.Where(b => !b.Divides(inF, outF)).ToList();
            return misfits.Count == 0
                ? new LayerPlan(inF, outF, listed, request.Rank, null)
                : Dense(inF, outF, $"candidate block {misfits[0]} does not tile its {outF}x{inF} weight (rows must divide {outF}, columns {inF})");
        }
        var requested = request.PerLayerBlocks is { } perLayer ? perLayer[index] : request.SharedBlock;
        if (requested is { } block)
        {
            return block.Divides(inF, outF)
                ? new LayerPlan(inF, outF, [block], request.Rank, null)
                : Dense(inF, outF, $"block {block} does not tile its {outF}x{inF} weight (rows must divide {outF}, columns {inF})");
        }
        bool budget = request.SearchBlockShapes && request.SearchFlopFraction > 0;
        var automatic = budget
            ? BlockShapeCandidates.WithinFlopBudget(inF, outF, request.Rank, request.SearchFlopFraction)
            : request.SearchBlockShapes ? BlockShapeCandidates.Search(inF, outF, request.Rank) : [];
        // Where no shape fits the search's FLOP budget (a small output layer) the report says so, because the layer then costs more than asked.
        string? overBudget = budget && automatic.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"no block shape is within {request.SearchFlopFraction:P1} of its dense FLOPs (ShapeSearchFlopFraction)")
            : null;
        // Without a search, or where no shape fits the search's FLOP budget, the automatic shape or dense.
        if (automatic.Count == 0 && BlockShapeCandidates.Automatic(inF, outF, request.Rank, outputLayer) is { } fallback)
        {
            double cost = (double)LayerCost.FactoredForwardFlops(inF, outF, fallback, request.Rank) / LayerCost.DenseForwardFlops(inF, outF);
            return new LayerPlan(inF, outF, [fallback], request.Rank, null)
            {
                Note = overBudget is null ? null : string.Create(CultureInfo.InvariantCulture, $"{overBudget}: trained with the automatic shape {fallback}, {cost:P1} of them"),
            };
        }
        return automatic.Count > 0
            ? new LayerPlan(inF, outF, automatic, request.Rank, null)
            : Dense(inF, outF, $"at rank {request.Rank} the automatic block shape would not save both parameters and FLOPs on a {outF}x{inF} layer"
                + (overBudget is null ? "" : $", and {overBudget}"));
    }
}

/// <summary>What <see cref="LayerPlan.ForMlp(int, IReadOnlyList{int}, int, PlanRequest)"/> plans from; per-layer lists hold one entry per layer.</summary>
internal sealed record PlanRequest(
    BlockSparseMethod Method,
    int Rank,
    BlockShape? SharedBlock,
    IReadOnlyList<BlockShape?>? PerLayerBlocks,
    IReadOnlyList<IReadOnlyList<BlockShape>>? PerLayerCandidates,
    bool SearchBlockShapes,
    double SearchFlopFraction = 0);
