namespace Microsoft.ML.BlockSparse.Network;

/// <summary>The automatic channel block of a factored convolution.</summary>
internal static class ConvBlockShapes
{
    /// <summary>
    /// Of the channel blocks <c>m × n</c> that tile the convolution (<c>m</c> divides <c>Cout</c>, <c>n</c>
    /// divides <c>Cin</c>) and are cheaper than the dense convolution in both parameters and FLOPs (the rule
    /// of the linear layers), the one with the fewest forward FLOPs, then the fewest parameters; null (the
    /// convolution stays dense) when none is cheaper.
    /// </summary>
    /// <remarks>
    /// Not the balanced <c>√Cout × √Cin</c> shape of the linear layers: a convolution's factored/dense FLOP
    /// ratio is <c>r·(1/p + 1/(n·kh·kw))</c> (ConvCost), so the kernel window makes the second term tiny and
    /// only a tall grid (<c>p = Cout/m</c> large, well above the rank) saves compute. On LeNet-5's 16×6
    /// convolution at rank 4 the balanced 4×2 block would cost more FLOPs than dense.
    /// </remarks>
    public static BlockShape? Cheapest(int inChannels, int outChannels, (int Height, int Width) kernel, (int Height, int Width) output, int rank)
    {
        long denseParameters = ConvCost.DenseParameters(inChannels, outChannels, kernel);
        long denseFlops = ConvCost.DenseForwardFlops(inChannels, outChannels, kernel, output);
        var tilings =
            from m in Divisors(outChannels)
            from n in Divisors(inChannels)
            let block = new BlockShape(m, n)
            let parameters = ConvCost.FactoredParameters(inChannels, outChannels, kernel, block, rank)
            let flops = ConvCost.FactoredForwardFlops(inChannels, outChannels, kernel, block, rank, output)
            where parameters < denseParameters && flops < denseFlops
            orderby flops, parameters
            select (BlockShape?)block;
        return tilings.FirstOrDefault();
    }

    private static IEnumerable<int> Divisors(int value) => Enumerable.Range(1, value).Where(d => value % d == 0);
}
