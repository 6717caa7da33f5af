namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Parameter and FLOP counts of factored and dense layers, from their shapes alone (docs/method.md).
/// A multiply-add counts as 2 FLOPs; a training step counts as 3 forward passes (the forward
/// product and the two products of the backward pass). Bias additions are not counted on either side.
/// </summary>
internal static class LayerCost
{
    public static long DenseParameters(int inFeatures, int outFeatures) => (long)inFeatures * outFeatures + outFeatures;

    public static long DenseForwardFlops(int inFeatures, int outFeatures) => 2L * inFeatures * outFeatures;

    /// <summary><c>(r+1)·p·q + r·m·n</c> factor entries plus the bias.</summary>
    public static long FactoredParameters(int inFeatures, int outFeatures, BlockShape block, int rank)
    {
        var (p, q) = Grid(inFeatures, outFeatures, block);
        return (rank + 1L) * p * q + (long)rank * block.Rows * block.Columns + outFeatures;
    }

    /// <summary>Forward FLOPs while training, zero blocks included: <c>2·r·q·m·(n+p)</c>.</summary>
    public static long FactoredForwardFlops(int inFeatures, int outFeatures, BlockShape block, int rank)
    {
        var (p, q) = Grid(inFeatures, outFeatures, block);
        return 2L * rank * q * block.Rows * (block.Columns + p);
    }

    /// <summary>
    /// Forward FLOPs at inference, skipping zero blocks: the product <c>X·B_iᵀ</c> is needed only for
    /// input groups with a non-zero block, and the mixing product only for the non-zero blocks.
    /// </summary>
    public static long FactoredInferenceFlops(BlockShape block, int rank, long liveInputGroups, long nonZeroBlocks)
        => 2L * rank * block.Rows * (liveInputGroups * block.Columns + nonZeroBlocks);

    public static (int P, int Q) Grid(int inFeatures, int outFeatures, BlockShape block)
        => (outFeatures / block.Rows, inFeatures / block.Columns);
}
