using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A 2-D convolution whose kernel (<c>Cout × Cin × kh × kw</c>) is
/// <c>W[:, :, u, v] = Σ_i (S ⊙ A_i) ⊗ B_i[:, :, u, v]</c> (docs/method.md, "Convolutions"): the channel
/// dimensions are Kronecker-factored into <c>p × q</c> blocks of <c>m</c> output by <c>n</c> input
/// channels, each block spanning the whole kernel window. <c>S</c> (<c>p × q</c>) holds one gate per
/// block; a zero gate zeroes the block's <c>m × n × kh × kw</c> slice of the kernel.
/// </summary>
/// <remarks>
/// The dense kernel is never built in training: the <c>q</c> input-channel groups are folded into the
/// batch, one small convolution applies every <c>B_i</c> at once (<c>r·m</c> output channels), and one
/// batched matrix product mixes the groups with <c>[S ⊙ A_1, …, S ⊙ A_r]</c>. Channel <c>a·m + i</c>
/// of the output and <c>b·n + j</c> of the input belong to block <c>(a, b)</c>, as rows and columns do in
/// <see cref="KroneckerLinear"/>.
/// </remarks>
internal sealed partial class KroneckerConv2d : nn.Module<Tensor, Tensor>, IConvolutionLayer, IGatedBlocks
{
    // Field names become the parameter names TorchSharp registers, as in KroneckerLinear.
    private readonly Parameter gate;   // S: p × q
    private readonly Parameter left;   // A: r × p × q
    private readonly Parameter right;  // B: r × m × n × kh × kw
    private readonly Parameter bias;   // Cout
    private readonly Tensor gateMask;  // 1 where a block may be non-zero; hard pruning writes 0 for good

    /// <param name="name">Module name.</param>
    /// <param name="inChannels"><c>Cin</c>.</param>
    /// <param name="outChannels"><c>Cout</c>.</param>
    /// <param name="kernel">Kernel height and width (<c>kh</c>, <c>kw</c>).</param>
    /// <param name="block">Channel block: <see cref="BlockShape.Rows"/> = <c>m</c> output channels, <see cref="BlockShape.Columns"/> = <c>n</c> input channels.</param>
    /// <param name="rank">Kronecker rank <c>r</c>.</param>
    /// <param name="input">Height and width of the input feature map, for the FLOP counts of <see cref="Describe"/> (the forward pass takes any size).</param>
    /// <param name="generator">Random source of the initialisation.</param>
    /// <param name="stride">Step of the kernel, the same along both axes.</param>
    /// <param name="padding">Zeros added on every side, the same along both axes.</param>
    public KroneckerConv2d(string name, int inChannels, int outChannels, (int Height, int Width) kernel, BlockShape block, int rank,
        (int Height, int Width) input, Generator generator, int stride = 1, int padding = 0)
        : base(name)
    {
        if (!block.Divides(inChannels, outChannels))
            throw new ArgumentException($"Block shape {block} does not tile a convolution of {outChannels} output x {inChannels} input channels: "
                + $"the block rows must divide {outChannels} and the columns {inChannels}.", nameof(block));
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel.Height, 1, nameof(kernel));
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel.Width, 1, nameof(kernel));
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);

        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Block = block;
        Rank = rank;
        Stride = stride;
        Padding = padding;
        Input = input;
        Output = ConvCost.OutputSize(input, kernel, stride, padding);
        (GridRows, GridColumns) = LayerCost.Grid(inChannels, outChannels, block);

        // As KroneckerLinear, with the convolution's fan-in Cin·kh·kw: with S = 1, Var(W) = r·Var(A)·Var(B),
        // and equal scales for A and B give Var(W) = 1/fan-in while neither factor dwarfs the other
        // (Adam moves every entry by about the learning rate, so a much larger factor would barely train).
        long fanIn = (long)inChannels * kernel.Height * kernel.Width;
        var factorStd = Math.Pow(rank * (double)fanIn, -0.25);
        gate = new Parameter(ones(GridRows, GridColumns));
        using (var std = Scalars.Of(factorStd))
        {
            left = new Parameter(randn([rank, GridRows, GridColumns], generator: generator).mul_(std));
            right = new Parameter(randn([rank, block.Rows, block.Columns, kernel.Height, kernel.Width], generator: generator).mul_(std));
        }
        bias = new Parameter(zeros(outChannels));
        gateMask = ones(GridRows, GridColumns);
        RegisterComponents();
    }

    /// <summary><c>Cin</c>.</summary>
    public int InChannels { get; }

    /// <summary><c>Cout</c>.</summary>
    public int OutChannels { get; }

    /// <summary><c>(kh, kw)</c>.</summary>
    public (int Height, int Width) Kernel { get; }

    /// <summary><c>m × n</c>: output by input channels of one block.</summary>
    public BlockShape Block { get; }

    public int Rank { get; }
    public int Stride { get; }
    public int Padding { get; }

    /// <summary>The input feature map size the costs are counted for.</summary>
    public (int Height, int Width) Input { get; }

    /// <summary>The output feature map size for <see cref="Input"/>.</summary>
    public (int Height, int Width) Output { get; }

    /// <summary><c>p</c>: blocks down the output channels.</summary>
    public int GridRows { get; }

    /// <summary><c>q</c>: blocks across the input channels.</summary>
    public int GridColumns { get; }

    public Parameter Gate => gate;
    public Parameter Left => left;
    public Parameter Right => right;
    public Tensor Bias => bias;
    public Tensor GateMask => gateMask;

    /// <param name="input"><c>[N, Cin, H, W]</c>.</param>
    /// <returns><c>[N, Cout, Ho, Wo]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != InChannels)
            throw new ArgumentException($"{GetName()} expects input [batch, {InChannels} channels, height, width]; got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        long batch = input.shape[0];
        int m = Block.Rows, n = Block.Columns, p = GridRows, q = GridColumns, r = Rank;

        // Fold the q input-channel groups into the batch and apply every B_i at once:
        // [N·q, n, H, W] ⊛ [r·m, n, kh, kw] -> [N·q, r·m, Ho, Wo].
        var groups = input.reshape(batch * q, n, input.shape[2], input.shape[3]);
        var projected = nn.functional.conv2d(groups, right.reshape(r * m, n, Kernel.Height, Kernel.Width),
            strides: [Stride, Stride], padding: [Padding, Padding]);
        long ho = projected.shape[2], wo = projected.shape[3];
        // Bring the rank next to the groups, rank-major as MixingMatrix's columns: [N, r·q, m·Ho·Wo].
        var stacked = projected.reshape(batch, q, r, m * ho * wo).permute(0, 2, 1, 3).reshape(batch, r * q, m * ho * wo);
        // Mix the groups: [p, r·q] @ [N, r·q, m·Ho·Wo] -> [N, p, m·Ho·Wo], i.e. channel a·m + i.
        var output = MixingMatrix().matmul(stacked).reshape(batch, p * m, ho, wo).add(bias.reshape(1, p * m, 1, 1), Scalars.One);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary><c>[S ⊙ A_1, …, S ⊙ A_r]</c> as one <c>p × r·q</c> matrix (column <c>i·q + b</c>).</summary>
    public Tensor MixingMatrix()
        => left.mul(gate).permute(1, 0, 2).reshape(GridRows, Rank * GridColumns);

    /// <summary>The dense kernel <c>Cout × Cin × kh × kw</c> this layer represents. For tests and export only.</summary>
    public Tensor MaterializeKernel()
    {
        using var scope = NewDisposeScope();
        // W[a·m+i, b·n+j, u, v] = Σ_r S[a,b]·A_r[a,b]·B_r[i,j,u,v]
        var kernel = einsum("rab,rijuv->aibjuv", left.mul(gate), right)
            .reshape(OutChannels, InChannels, Kernel.Height, Kernel.Width);
        return kernel.MoveToOuterDisposeScope();
    }



    public long ZeroBlocks()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return gate.eq(Scalars.Zero).sum().item<long>();
    }

    /// <summary>
    /// Counts for the sparsity report at input size <see cref="Input"/>. "Features" are values of the
    /// feature maps: <c>Cin·H·W</c> in, <c>Cout·Ho·Wo</c> out. The block shape reads
    /// <c>m x n x kh x kw</c> (output channels, input channels, kernel window).
    /// </summary>
    public LayerSparsity Describe(int index)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var nonZero = gate.ne(Scalars.Zero);
        long nonZeroBlocks = nonZero.sum().item<long>();
        long liveInputGroups = nonZero.any(0).sum().item<long>();
        long blocks = (long)GridRows * GridColumns;
        long forward = ConvCost.FactoredForwardFlops(InChannels, OutChannels, Kernel, Block, Rank, Output);
        long dense = ConvCost.DenseForwardFlops(InChannels, OutChannels, Kernel, Output);
        return new LayerSparsity
        {
            Index = index,
            InFeatures = InChannels * Input.Height * Input.Width,
            OutFeatures = OutChannels * Output.Height * Output.Width,
            Factored = true,
            BlockShape = $"{Block.Rows}x{Block.Columns}x{Kernel.Height}x{Kernel.Width}",
            Rank = Rank,
            Blocks = blocks,
            ZeroBlocks = blocks - nonZeroBlocks,
            TrainableParameters = ConvCost.FactoredParameters(InChannels, OutChannels, Kernel, Block, Rank),
            DenseParameters = ConvCost.DenseParameters(InChannels, OutChannels, Kernel),
            TrainingFlopsPerExample = 3 * forward,
            DenseTrainingFlopsPerExample = 3 * dense,
            InferenceFlopsPerExample = ConvCost.FactoredInferenceFlops(Kernel, Block, Rank, Output, liveInputGroups, nonZeroBlocks),
            DenseInferenceFlopsPerExample = dense,
        };
    }
}
