namespace Microsoft.ML.BlockSparse;

/// <summary>
/// Parameter and FLOP counts of factored and dense 2-D convolutions, from their shapes alone, with the
/// conventions of <see cref="LayerCost"/>: a multiply-add counts as 2 FLOPs, a training step as 3
/// forward passes, bias additions are not counted. A convolution's FLOPs scale with its output size
/// <c>Ho × Wo</c>: every output position repeats the same products.
/// </summary>
/// <remarks>
/// Kernel <c>Cout × Cin × kh × kw</c>, channel block <c>m × n</c>, grid <c>p = Cout/m</c>,
/// <c>q = Cin/n</c>, rank <c>r</c>. The factored forward pass (see <see cref="Layers.KroneckerConv2d"/>)
/// is a convolution of each of the <c>q</c> input groups (<c>n</c> channels) with all <c>r·m</c>
/// kernels of <c>B</c>, then a mixing product of <c>p × r·q</c> by <c>r·q × (m·Ho·Wo)</c>:
/// <c>2·Ho·Wo·r·q·m·(n·kh·kw + p)</c> FLOPs, against <c>2·Ho·Wo·Cout·Cin·kh·kw</c> dense.
/// </remarks>
internal static class ConvCost
{
    /// <summary>Output size of a convolution: <c>⌊(H + 2·padding − kh) / stride⌋ + 1</c> per axis.</summary>
    /// <exception cref="ArgumentException">The kernel does not fit the padded input.</exception>
    public static (int Height, int Width) OutputSize((int Height, int Width) input, (int Height, int Width) kernel, int stride, int padding)
    {
        if (input.Height + 2 * padding < kernel.Height || input.Width + 2 * padding < kernel.Width)
        {
            throw new ArgumentException($"A {kernel.Height}x{kernel.Width} kernel does not fit a {input.Height}x{input.Width} input "
                + $"with padding {padding}: the padded input must be at least as large as the kernel.", nameof(kernel));
        }
        return ((input.Height + 2 * padding - kernel.Height) / stride + 1, (input.Width + 2 * padding - kernel.Width) / stride + 1);
    }

    /// <summary><c>Cout·Cin·kh·kw</c> weights plus <c>Cout</c> biases.</summary>
    public static long DenseParameters(int inChannels, int outChannels, (int Height, int Width) kernel)
        => (long)outChannels * inChannels * kernel.Height * kernel.Width + outChannels;

    /// <summary><c>(r+1)·p·q + r·m·n·kh·kw</c> factor entries plus <c>Cout</c> biases.</summary>
    public static long FactoredParameters(int inChannels, int outChannels, (int Height, int Width) kernel, BlockShape block, int rank)
    {
        var (p, q) = LayerCost.Grid(inChannels, outChannels, block);
        return (rank + 1L) * p * q + (long)rank * block.Rows * block.Columns * kernel.Height * kernel.Width + outChannels;
    }

    /// <summary>Dense forward FLOPs per example: <c>2·Ho·Wo·Cout·Cin·kh·kw</c>.</summary>
    public static long DenseForwardFlops(int inChannels, int outChannels, (int Height, int Width) kernel, (int Height, int Width) output)
        => 2L * output.Height * output.Width * outChannels * inChannels * kernel.Height * kernel.Width;

    /// <summary>Factored forward FLOPs per example while training, zero blocks included: <c>2·Ho·Wo·r·q·m·(n·kh·kw + p)</c>.</summary>
    public static long FactoredForwardFlops(int inChannels, int outChannels, (int Height, int Width) kernel, BlockShape block, int rank,
        (int Height, int Width) output)
    {
        var (p, q) = LayerCost.Grid(inChannels, outChannels, block);
        return 2L * output.Height * output.Width * rank * q * block.Rows * ((long)block.Columns * kernel.Height * kernel.Width + p);
    }

    /// <summary>
    /// Factored forward FLOPs per example at inference, skipping zero blocks: the small convolution is
    /// needed only for input groups with a non-zero block, the mixing only for non-zero blocks:
    /// <c>2·Ho·Wo·r·m·(liveGroups·n·kh·kw + nonZeroBlocks)</c>.
    /// </summary>
    public static long FactoredInferenceFlops((int Height, int Width) kernel, BlockShape block, int rank, (int Height, int Width) output,
        long liveInputGroups, long nonZeroBlocks)
        => 2L * output.Height * output.Width * rank * block.Rows
            * (liveInputGroups * block.Columns * kernel.Height * kernel.Width + nonZeroBlocks);
}
