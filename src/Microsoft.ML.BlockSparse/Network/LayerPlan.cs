namespace Microsoft.ML.BlockSparse.Network;

/// <summary>How one layer will be built: factored with a block shape, or dense and why.</summary>
internal sealed record LayerPlan(int InFeatures, int OutFeatures, BlockShape? Block, string? DenseReason)
{
    /// <summary>
    /// Plans every layer of an MLP <c>in → hidden… → classes</c>. <paramref name="perLayerBlocks"/>
    /// (one per layer) wins over <paramref name="sharedBlock"/>; with neither, a shape is chosen per
    /// layer by <see cref="ChooseBlock"/>.
    /// </summary>
    public static IReadOnlyList<LayerPlan> ForMlp(int inputSize, IReadOnlyList<int> hidden, int classes,
        int rank, BlockShape? sharedBlock, IReadOnlyList<BlockShape>? perLayerBlocks)
    {
        var sizes = new List<int> { inputSize };
        sizes.AddRange(hidden);
        sizes.Add(classes);
        var plans = new List<LayerPlan>();
        for (int i = 0; i + 1 < sizes.Count; i++)
        {
            int inF = sizes[i], outF = sizes[i + 1];
            var requested = perLayerBlocks?[i] ?? sharedBlock;
            if (requested is { } block)
            {
                plans.Add(block.Divides(inF, outF)
                    ? new LayerPlan(inF, outF, block, null)
                    : new LayerPlan(inF, outF, null, $"block {block} does not tile its {outF}x{inF} weight (rows must divide {outF}, columns {inF})"));
            }
            else
            {
                var chosen = ChooseBlock(inF, outF, rank);
                plans.Add(chosen is null
                    ? new LayerPlan(inF, outF, null, $"no block shape of {outF}x{inF} has fewer parameters than the dense layer at rank {rank}")
                    : new LayerPlan(inF, outF, chosen, null));
            }
        }
        return plans;
    }

    /// <summary>
    /// The automatic block shape: rows a divisor of <c>out</c> nearest <c>√out</c>, columns a divisor
    /// of <c>in</c> nearest <c>√in</c>. A balanced grid keeps both the factor count
    /// <c>(r+1)·p·q + r·m·n</c> and the compute ratio <c>r·(1/p + 1/n)</c> small. Null when even that
    /// shape would not be smaller than the dense layer.
    /// </summary>
    public static BlockShape? ChooseBlock(int inFeatures, int outFeatures, int rank)
    {
        var block = new BlockShape(NearestDivisor(outFeatures, Math.Sqrt(outFeatures)), NearestDivisor(inFeatures, Math.Sqrt(inFeatures)));
        return LayerCost.FactoredParameters(inFeatures, outFeatures, block, rank) < LayerCost.DenseParameters(inFeatures, outFeatures)
            ? block
            : null;
    }

    private static int NearestDivisor(int value, double target)
    {
        int best = 1;
        for (int d = 1; d <= value; d++)
        {
            if (value % d == 0 && Math.Abs(d - target) < Math.Abs(best - target))
                best = d;
        }
        return best;
    }
}
