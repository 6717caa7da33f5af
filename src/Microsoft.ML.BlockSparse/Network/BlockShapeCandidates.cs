namespace Microsoft.ML.BlockSparse.Network;

/// <summary>The automatic block shapes of a layer: one shape, or a small set of candidates for λ2 to choose from.</summary>
internal static class BlockShapeCandidates
{
    /// <summary>At most this many candidates per layer: each live candidate costs a full factored layer of compute.</summary>
    public const int MaxSearched = 3;

    /// <summary>
    /// The balanced block shape: rows a divisor of <c>out</c> nearest <c>√out</c>, columns a divisor
    /// of <c>in</c> nearest <c>√in</c>; a balanced grid keeps both the factor count
    /// <c>(r+1)·p·q + r·m·n</c> and the compute ratio <c>r·(1/p + 1/n)</c> small. Null (the layer
    /// stays dense) unless that shape is cheaper than the dense layer in both parameters and forward
    /// FLOPs. (Searching other tilings of a small layer instead was tried: on MNIST's 100→10 layer at
    /// rank 4 the cheaper tilings cost 0.2 to 0.4 points of accuracy for a negligible saving.)
    /// </summary>
    public static BlockShape? Balanced(int inFeatures, int outFeatures, int rank)
    {
        var block = Near(inFeatures, outFeatures, 1.0);
        return IsCheaperThanDense(inFeatures, outFeatures, block, rank) ? block : null;
    }

    /// <summary>
    /// The block shape a layer gets when none is given and no search runs: of every tiling with no more
    /// parameters than the <see cref="Balanced"/> shape and the same bound on the weight's rank
    /// (<see cref="WeightRankBound"/>), the one with the fewest forward FLOPs (ties to fewer parameters, then fewer
    /// block rows); for the network's output layer (<paramref name="outputLayer"/>) the balanced shape itself.
    /// Null (the layer stays dense) where the balanced shape is not cheaper than dense.
    /// </summary>
    /// <remarks>
    /// The balanced shape keeps the factor count small but not the compute: forward FLOPs are <c>r·(m·in + q·out)</c>,
    /// lowest for short, wide blocks, and the product between the two factors holds <c>r·m·q</c> values per row,
    /// which at MNIST's widths is what a step's time follows. For MNIST's 784→300 layer at rank 4 the balanced 15×28
    /// costs 161.3k forward FLOPs per row and 4,480 parameters; 10×56 costs 96.3k and 4,340, and allows a weight of the same
    /// full rank 300. Chosen on a validation split (README, "Choosing block shapes for a new input size"). The choice reads only
    /// the layer's sizes, nothing of an image's layout. The output layer is left balanced: its rows are the classes, and
    /// its cheapest tilings have one-row blocks, where each class's weights over an input group are combinations of
    /// only <c>r</c> shared vectors; those cost accuracy (a short LeNet5 run at rank 2 fell from above 80 % to 78 % with
    /// 1×14 output blocks for 2×7, and forcing MNIST's 100→10 layer into cheaper tilings cost validation accuracy).
    /// </remarks>
    public static BlockShape? Automatic(int inFeatures, int outFeatures, int rank, bool outputLayer)
    {
        if (Balanced(inFeatures, outFeatures, rank) is not { } balanced)
            return null;
        if (outputLayer)
            return balanced;
        long parameters = LayerCost.FactoredParameters(inFeatures, outFeatures, balanced, rank);
        long rankBound = WeightRankBound(inFeatures, outFeatures, balanced, rank);
        return (from rows in Divisors(outFeatures)
                from columns in Divisors(inFeatures)
                let block = new BlockShape(rows, columns)
                where LayerCost.FactoredParameters(inFeatures, outFeatures, block, rank) <= parameters
                    && WeightRankBound(inFeatures, outFeatures, block, rank) >= rankBound
                orderby LayerCost.FactoredForwardFlops(inFeatures, outFeatures, block, rank),
                    LayerCost.FactoredParameters(inFeatures, outFeatures, block, rank),
                    block.Rows
                select block).First();
    }

    /// <summary>
    /// The candidates of the automatic search: the balanced shape and the shapes with both sides about
    /// halved and about doubled (the divisors of <c>out</c> and <c>in</c> nearest <c>√out/2, √in/2</c> and
    /// <c>2√out, 2√in</c>): small, medium and large blocks. Only shapes cheaper than the dense layer in
    /// both parameters and FLOPs are kept, so a layer may get fewer than three (or none: it stays dense).
    /// </summary>
    public static IReadOnlyList<BlockShape> Search(int inFeatures, int outFeatures, int rank)
        => new[] { 0.5, 1.0, 2.0 }
            .Select(scale => Near(inFeatures, outFeatures, scale))
            .Distinct()
            .Where(b => IsCheaperThanDense(inFeatures, outFeatures, b, rank))
            .Take(MaxSearched)
            .ToList();

    /// <summary>
    /// The candidates of a search within a FLOP budget: of every block shape that tiles the layer and whose factored
    /// forward FLOPs are at most <paramref name="flopFraction"/> of the dense layer's (and cheaper than it in parameters),
    /// the three that allow the highest rank of the weight (<see cref="WeightRankBound"/>), ties to fewer parameters, then
    /// fewer FLOPs. A budget limits how many projections of the input a layer can form, so the most expressive shapes
    /// within it are the ones worth comparing; the choice reads only the layer's sizes, nothing of an image's layout.
    /// Empty when no shape fits the budget.
    /// </summary>
    public static IReadOnlyList<BlockShape> WithinFlopBudget(int inFeatures, int outFeatures, int rank, double flopFraction)
    {
        double budget = flopFraction * LayerCost.DenseForwardFlops(inFeatures, outFeatures);
        return (from rows in Divisors(outFeatures)
                from columns in Divisors(inFeatures)
                let block = new BlockShape(rows, columns)
                where LayerCost.FactoredForwardFlops(inFeatures, outFeatures, block, rank) <= budget
                    && IsCheaperThanDense(inFeatures, outFeatures, block, rank)
                orderby WeightRankBound(inFeatures, outFeatures, block, rank) descending,
                    LayerCost.FactoredParameters(inFeatures, outFeatures, block, rank),
                    LayerCost.FactoredForwardFlops(inFeatures, outFeatures, block, rank)
                select block)
            .Take(MaxSearched)
            .ToList();
    }

    /// <summary>
    /// The largest rank <c>Σ_i A_i ⊗ B_i</c> can reach: each term's rank is <c>rank(A_i)·rank(B_i)</c>, at most
    /// <c>min(p, q)·min(m, n)</c> for a <c>p×q</c> grid of <c>m×n</c> blocks, and the weight's at most <c>min(out, in)</c>.
    /// </summary>
    public static long WeightRankBound(int inFeatures, int outFeatures, BlockShape block, int rank)
    {
        var (p, q) = LayerCost.Grid(inFeatures, outFeatures, block);
        return Math.Min(Math.Min(inFeatures, outFeatures), (long)rank * Math.Min(p, q) * Math.Min(block.Rows, block.Columns));
    }

    private static IEnumerable<int> Divisors(int value) => Enumerable.Range(1, value).Where(d => value % d == 0);

    public static bool IsCheaperThanDense(int inFeatures, int outFeatures, BlockShape block, int rank)
        => LayerCost.FactoredParameters(inFeatures, outFeatures, block, rank) < LayerCost.DenseParameters(inFeatures, outFeatures)
            && LayerCost.FactoredForwardFlops(inFeatures, outFeatures, block, rank) < LayerCost.DenseForwardFlops(inFeatures, outFeatures);

    private static BlockShape Near(int inFeatures, int outFeatures, double scale)
        => new(NearestDivisor(outFeatures, scale * Math.Sqrt(outFeatures)), NearestDivisor(inFeatures, scale * Math.Sqrt(inFeatures)));

    // The first divisor at the smallest distance, so ties go to the smaller one.
    private static int NearestDivisor(int value, double target) => Divisors(value).MinBy(d => Math.Abs(d - target));
}
