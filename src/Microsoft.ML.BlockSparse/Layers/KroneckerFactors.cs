using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// One candidate block shape's factor set <c>θ = {S, A_i, B_i}</c> of a <see cref="KroneckerLinear"/>:
/// its contribution <c>Σ_i (S ⊙ A_i) ⊗ B_i</c> to the layer's weight (no bias), computed without
/// building the weight: for an input reshaped to <c>X</c> (<c>q × n</c>), <c>Y = Σ_i (S ⊙ A_i)·(X·B_iᵀ)</c>.
/// </summary>
internal sealed class KroneckerFactors : nn.Module<Tensor, Tensor>, IGatedBlocks
{
    // Field names become the parameter names TorchSharp registers (and checkpoints use).
    private readonly Parameter gate;   // S: p × q
    private readonly Parameter left;   // A: r × p × q
    private readonly Parameter right;  // B: r × m × n
    private readonly Tensor gateMask;  // 1 where a block may be non-zero; hard pruning writes 0 for good

    // weightVariance: the variance of this candidate's share of each weight entry at initialisation.
    public KroneckerFactors(string name, int inFeatures, int outFeatures, BlockShape block, int rank, double weightVariance, Generator generator)
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

        // With S = 1, Var(W) = r · Var(A) · Var(B). Give A and B the same scale: Adam moves every entry
        // by about the learning rate, so a factor much larger than the other would barely change in
        // relative terms and training would crawl.
        var factorStd = Math.Pow(weightVariance / rank, 0.25);
        gate = new Parameter(ones(GridRows, GridColumns));
        using (var std = Scalars.Of(factorStd))
        {
            left = new Parameter(randn([rank, GridRows, GridColumns], generator: generator).mul_(std));
            right = new Parameter(randn([rank, block.Rows, block.Columns], generator: generator).mul_(std));
        }
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
    public Tensor GateMask => gateMask;

    /// <summary>The group <c>θ</c> that λ2's group penalty acts on.</summary>
    public Parameter[] Group => [gate, left, right];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = MixesFirst ? MixThenProject(input) : ProjectThenMix(input);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Whether <see cref="forward"/> mixes the input groups before projecting the blocks: chosen when that
    /// order costs no more FLOPs (<c>p·in + out·n ≤ in·m + out·q</c>, equal for square grids of square
    /// blocks). <see cref="LayerCost.FactoredForwardFlops"/> counts the other order, so the report is never an
    /// undercount.
    /// </summary>
    /// <remarks>
    /// This is the batch-major layout of <see cref="forward"/> (a Vision Transformer's token layers); a network's
    /// stack of linear layers runs one column per row instead (<see cref="ForwardColumns"/>), where both products
    /// read memory as it lies. Batch-major, neither order is two plain matrix products on contiguous memory: one
    /// contraction always has the batch on the wrong side. Mixing first multiplies by the mixing factor as one batched product against its
    /// broadcast (stride-0) view. Projecting first must not do the same: the backward pass of that batched
    /// product (whose broadcast operand is the wide one) measured 4 to 16 times slower than its forward pass
    /// (6 ms for the ViT's 64→192 layer at 1,024 rows, against 0.4 ms), so it transposes the projections
    /// once and mixes them in one plain product, whose gradients are plain products too.
    /// </remarks>
    public bool MixesFirst => (long)GridRows * InFeatures + (long)OutFeatures * Block.Columns
        <= (long)InFeatures * Block.Rows + (long)OutFeatures * GridColumns;

    // Z[N, (a,i'), j] = Σ_b (S⊙A_i')[a,b]·X[N,b,j] (batched, the mixing broadcast over the batch), then
    // Y[(N,a), i] = Σ_(i',j) Z[(N,a), (i',j)]·B_i'[i,j]: one plain product whose output is [N, p·m] as it lies.
    private Tensor MixThenProject(Tensor input)
    {
        long batch = input.shape[0];
        int m = Block.Rows, n = Block.Columns, p = GridRows, q = GridColumns, r = Rank;
        var mixing = left.mul(gate).permute(1, 0, 2).reshape(p * r, q);             // [(a, i'), b]
        var mixed = bmm(mixing.expand(batch, p * r, q), input.reshape(batch, q, n));  // [N, (a, i'), j]
        var blocks = right.permute(1, 0, 2).reshape(m, r * n);                      // [i, (i', j)]
        return mixed.view(batch * p, r * n).matmul(blocks.t()).view(batch, p * m);
    }

    // P[(N,b), (i',i)] = Σ_j X[(N,b), j]·B_i'[i,j] (one plain product), laid out again as P'[(N,i), (b,i')] (one copy
    // of the projections), then Y'[(N,i), a] = Σ_(b,i') P'[(N,i), (b,i')]·M[a, (b,i')] (one plain product), and
    // Y[N, a, i] from Y' (one copy of the output).
    private Tensor ProjectThenMix(Tensor input)
    {
        long batch = input.shape[0];
        int m = Block.Rows, n = Block.Columns, p = GridRows, q = GridColumns, r = Rank;
        var projected = input.reshape(batch * q, n).matmul(right.reshape(r * m, n).t());   // [(N, b), (i', i)]
        var byRow = projected.view(batch, q * r, m).transpose(1, 2).reshape(batch * m, q * r);
        var mixing = left.mul(gate).permute(1, 2, 0).reshape(p, q * r);             // [a, b·r + i'] = S[a,b]·A_i'[a,b]
        return byRow.matmul(mixing.t()).view(batch, m, p).transpose(1, 2).reshape(batch, p * m);
    }

    /// <summary>
    /// This candidate's contribution (no bias) for inputs laid out one column per row, <c>[in, N]</c> to <c>[out, N]</c>:
    /// <c>P[b, (i', i), N] = B_i'[i, :]·X[b, :, N]</c> (one batched product over the input groups, against the
    /// broadcast <c>B</c>), then <c>Y[a, (i, N)] = Σ_(b,i') M[a, (b, i')]·P[(b, i'), (i, N)]</c> (one plain product).
    /// </summary>
    /// <remarks>
    /// In this layout both products read and write memory as it lies, and the output is already <c>[out, N]</c>:
    /// the batch-major <see cref="forward"/> must lay the projections out again between its two products (a copy
    /// of <c>N·q·r·m</c> values forward and again backward) and the output once more; the README ("The forward
    /// pass") gives the measured per-layer times of both layouts. The broadcast operand is the small <c>B</c> and its
    /// batch the <c>q</c> input groups, so its gradient is a sum over <c>q</c> small products, not over the rows. It
    /// projects first in either case, which is the order <see cref="LayerCost.FactoredForwardFlops"/> counts: mixing
    /// first measured slower in this layout even where it saves FLOPs.
    /// </remarks>
    public Tensor ForwardColumns(Tensor columns)
    {
        using var scope = NewDisposeScope();
        long batch = columns.shape[1];
        int m = Block.Rows, n = Block.Columns, p = GridRows, q = GridColumns, r = Rank;
        var projected = bmm(right.reshape(r * m, n).expand(q, r * m, n), columns.reshape(q, n, batch));   // [b, (i', i), N]
        var mixing = left.mul(gate).permute(1, 2, 0).reshape(p, q * r);                                     // [a, (b, i')]
        return mixing.matmul(projected.view(q * r, m * batch)).view(OutFeatures, batch).MoveToOuterDisposeScope();
    }

    /// <summary><c>[S ⊙ A_1, …, S ⊙ A_r]</c> as one <c>p × r·q</c> matrix.</summary>
    public Tensor MixingMatrix()
        => left.mul(gate).permute(1, 0, 2).reshape(GridRows, Rank * GridColumns);

    public Tensor MaterializeWeight()
    {
        using var scope = NewDisposeScope();
        // W[a·m+i, b·n+j] = Σ_r S[a,b]·A_r[a,b]·B_r[i,j]
        var weight = einsum("rab,rij->aibj", left.mul(gate), right).reshape(OutFeatures, InFeatures);
        return weight.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Starts from <paramref name="share"/> (this candidate's part of a trained dense weight): gates at one,
    /// <c>A</c> and <c>B</c> from its nearest Kronecker product of this rank.
    /// </summary>
    public void InitializeFrom(Tensor share)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (a, b) = NearestKronecker.Factor(share, Block, Rank);
        gate.fill_(Scalars.One);
        left.copy_(a);
        right.copy_(b);
        gateMask.fill_(Scalars.One);
    }



    /// <summary><c>‖θ‖₂</c> over all three factors, the quantity λ2 penalises.</summary>
    public double GroupNorm()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var squares = gate.pow(Scalars.Two).sum().add(left.pow(Scalars.Two).sum(), Scalars.One).add(right.pow(Scalars.Two).sum(), Scalars.One);
        return squares.sqrt().to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>
    /// <c>‖W_c‖_F</c>, the norm of this candidate's share of the weight, without building it:
    /// <c>‖Σ_i (S⊙A_i)⊗B_i‖² = Σ_ij ⟨S⊙A_i, S⊙A_j⟩·⟨B_i, B_j⟩</c>. This is how much the candidate is
    /// used; unlike <c>‖θ_c‖</c> it does not depend on the candidate's size or on how the scale is split
    /// between the factors.
    /// </summary>
    public Tensor WeightNorm()
    {
        using var scope = NewDisposeScope();
        var mixing = left.mul(gate).reshape(Rank, -1);
        var blocks = right.reshape(Rank, -1);
        var squared = mixing.matmul(mixing.t()).mul(blocks.matmul(blocks.t())).sum();
        return squared.clamp_min(Scalars.Zero).sqrt().MoveToOuterDisposeScope();
    }

    /// <summary>Zeroes every factor and stops training it: the candidate is gone for good.</summary>
    public void Retire()
    {
        using var _ = no_grad();
        foreach (var parameter in Group)
        {
            parameter.fill_(Scalars.Zero);
            parameter.requires_grad_(false);
        }
        gateMask.fill_(Scalars.Zero);
    }

    /// <summary>Blocks whose gate is exactly zero.</summary>
    public long ZeroBlocks() => (long)GridRows * GridColumns - LiveBlocks().NonZeroBlocks;

    /// <summary>Non-zero blocks and the input groups they read (for the inference FLOP count).</summary>
    public (long NonZeroBlocks, long LiveInputGroups) LiveBlocks()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var nonZero = gate.ne(Scalars.Zero);
        return (nonZero.sum().item<long>(), nonZero.any(0).sum().item<long>());
    }
}
