using Microsoft.ML.BlockSparse.Reporting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A linear layer whose weight is <c>W = Σ_i (S ⊙ A_i) ⊗ B_i</c> (METHOD.md), computed without ever
/// building <c>W</c>: for an input reshaped to <c>X</c> (<c>q × n</c>), <c>Y = Σ_i (S ⊙ A_i)·(X·B_iᵀ)</c>.
/// <c>S</c> (<c>p × q</c>) holds one gate per block; a zero gate zeroes a whole <c>m × n</c> block.
/// </summary>
internal sealed class KroneckerLinear : nn.Module<Tensor, Tensor>, IBlockSparseLayer
{
    // Field names become the parameter names TorchSharp registers (and checkpoints will use).
    private readonly Parameter gate;   // S: p × q
    private readonly Parameter left;   // A: r × p × q
    private readonly Parameter right;  // B: r × m × n
    private readonly Parameter bias;   // out
    private readonly Tensor gateMask;  // 1 where a block may be non-zero; hard pruning writes 0 for good

    public KroneckerLinear(string name, int inFeatures, int outFeatures, BlockShape block, int rank, Generator generator)
        : base(name)
    {
        if (!block.Divides(inFeatures, outFeatures))
            throw new ArgumentException($"Block shape {block} does not tile a {outFeatures}x{inFeatures} weight (out x in).", nameof(block));
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Block = block;
        Rank = rank;
        (GridRows, GridColumns) = LayerCost.Grid(inFeatures, outFeatures, block);

        // With S = 1, Var(W) = r · Var(A) · Var(B). Give A and B the same scale, with Var(W) = 1/in:
        // Adam moves every entry by about the learning rate, so a factor much larger than the other
        // would barely change in relative terms and training would crawl.
        var aStd = Math.Pow(rank * (double)inFeatures, -0.25);
        var bStd = aStd;
        gate = new Parameter(ones(GridRows, GridColumns));
        left = new Parameter(randn([rank, GridRows, GridColumns], generator: generator).mul_(aStd));
        right = new Parameter(randn([rank, block.Rows, block.Columns], generator: generator).mul_(bStd));
        bias = new Parameter(zeros(outFeatures));
        gateMask = ones(GridRows, GridColumns);
        RegisterComponents();
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public BlockShape Block { get; }
    public int Rank { get; }

    /// <summary><c>p</c>: blocks down the output dimension.</summary>
    public int GridRows { get; }

    /// <summary><c>q</c>: blocks across the input dimension.</summary>
    public int GridColumns { get; }

    public Parameter Gate => gate;
    public Parameter Left => left;
    public Parameter Right => right;
    public Tensor Bias => bias;
    public Tensor GateMask => gateMask;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long batch = input.shape[0];
        int m = Block.Rows, n = Block.Columns, p = GridRows, q = GridColumns, r = Rank;

        // X·B_iᵀ for all ranks in one product: [N, q, n] @ [n, r·m] -> [N, q, r·m].
        var projected = input.reshape(batch, q, n).matmul(right.reshape(r * m, n).t());
        // Bring the rank next to the input groups so one product mixes both: [N, r·q, m].
        var stacked = projected.reshape(batch, q, r, m).permute(0, 2, 1, 3).reshape(batch, r * q, m);
        // (S ⊙ A_i) side by side for all ranks: [p, r·q].
        var mixing = MixingMatrix();
        var output = mixing.matmul(stacked).reshape(batch, p * m).add(bias);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary><c>[S ⊙ A_1, …, S ⊙ A_r]</c> as one <c>p × r·q</c> matrix.</summary>
    public Tensor MixingMatrix()
        => left.mul(gate).permute(1, 0, 2).reshape(GridRows, Rank * GridColumns);

    public Tensor MaterializeWeight()
    {
        using var scope = NewDisposeScope();
        // W[a·m+i, b·n+j] = Σ_r S[a,b]·A_r[a,b]·B_r[i,j]
        var weight = einsum("rab,rij->aibj", left.mul(gate), right)
            .reshape(OutFeatures, InFeatures);
        return weight.MoveToOuterDisposeScope();
    }

    /// <summary>Zeroes the gates of blocks that hard pruning removed, so they stay zero.</summary>
    public void ApplyGateMask()
    {
        using var _ = no_grad();
        gate.mul_(gateMask);
    }

    /// <summary>Removes for good every block whose gate magnitude is at most <paramref name="threshold"/>.</summary>
    public void PruneGatesBelow(double threshold)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        gateMask.mul_(gate.abs().gt(threshold).to_type(gateMask.dtype));
        gate.mul_(gateMask);
    }

    public long ZeroBlocks()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return gate.eq(0).sum().item<long>();
    }

    public LayerSparsity Describe(int index)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var nonZero = gate.ne(0);
        long nonZeroBlocks = nonZero.sum().item<long>();
        long liveInputGroups = nonZero.any(0).sum().item<long>();
        long forward = LayerCost.FactoredForwardFlops(InFeatures, OutFeatures, Block, Rank);
        return new LayerSparsity
        {
            Index = index,
            InFeatures = InFeatures,
            OutFeatures = OutFeatures,
            Factored = true,
            BlockShape = Block.ToString(),
            Rank = Rank,
            Blocks = (long)GridRows * GridColumns,
            ZeroBlocks = (long)GridRows * GridColumns - nonZeroBlocks,
            TrainableParameters = LayerCost.FactoredParameters(InFeatures, OutFeatures, Block, Rank),
            DenseParameters = LayerCost.DenseParameters(InFeatures, OutFeatures),
            TrainingFlopsPerExample = 3 * forward,
            DenseTrainingFlopsPerExample = 3 * LayerCost.DenseForwardFlops(InFeatures, OutFeatures),
            InferenceFlopsPerExample = LayerCost.FactoredInferenceFlops(Block, Rank, liveInputGroups, nonZeroBlocks),
            DenseInferenceFlopsPerExample = LayerCost.DenseForwardFlops(InFeatures, OutFeatures),
        };
    }
}
