using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A linear layer whose weight is a sum over candidate block shapes, <c>W = Σ_c Σ_i (S_c ⊙ A_c,i) ⊗ B_c,i</c>
/// (docs/method.md), never built as a dense matrix. With one candidate it is the plain factored layer; with
/// several, λ2's group penalty drives all but one to zero and <see cref="RetireCandidate"/> removes them,
/// so their compute stops.
/// </summary>
internal sealed partial class KroneckerLinear : nn.Module<Tensor, Tensor>, IBlockSparseLayer
{
    private readonly ModuleList<KroneckerFactors> candidates;
    private readonly Parameter bias;           // out
    private readonly Tensor candidateAlive;    // 1 per live candidate, 0 once retired (a buffer, so checkpoints carry it)
    private bool[] alive;                      // host copy: forward must not read a device tensor per batch

    public KroneckerLinear(string name, int inFeatures, int outFeatures, BlockShape block, int rank, Generator generator)
        : this(name, inFeatures, outFeatures, [block], rank, generator)
    {
    }

    public KroneckerLinear(string name, int inFeatures, int outFeatures, IReadOnlyList<BlockShape> blocks, int rank, Generator generator)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfZero(blocks.Count);
        if (blocks.Distinct().Count() != blocks.Count)
            throw new ArgumentException($"Candidate block shapes repeat: {string.Join(", ", blocks)}.", nameof(blocks));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Rank = rank;
        // The candidates share the weight's initial variance 1/in, so the layer starts at the same
        // scale however many candidates it holds.
        double share = 1.0 / ((double)inFeatures * blocks.Count);
        candidates = new ModuleList<KroneckerFactors>(blocks
            .Select((b, c) => new KroneckerFactors($"candidate{c}", inFeatures, outFeatures, b, rank, share, generator)).ToArray());
        bias = new Parameter(zeros(outFeatures));
        candidateAlive = ones(blocks.Count);
        alive = Enumerable.Repeat(true, blocks.Count).ToArray();
        RegisterComponents();
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public int Rank { get; }
    public Tensor Bias => bias;

    /// <summary>Why the layer's block shapes are not what was asked for, from its plan, for the report; null otherwise.</summary>
    public string? PlanNote { get; init; }

    /// <summary>Every candidate, retired ones included, in the order they were given.</summary>
    public IReadOnlyList<KroneckerFactors> Candidates => candidates.ToList();

    /// <summary>The candidates still trained and computed.</summary>
    public IReadOnlyList<KroneckerFactors> LiveCandidates => candidates.Where((_, c) => alive[c]).ToList();

    /// <summary>The only live candidate; for code and tests of single-shape layers.</summary>
    public KroneckerFactors Single => LiveCandidates.Count == 1
        ? LiveCandidates[0]
        : throw new InvalidOperationException($"Layer {GetName()} has {LiveCandidates.Count} live candidate block shapes, not one.");

    public BlockShape Block => Single.Block;
    public Parameter Gate => Single.Gate;
    public Parameter Left => Single.Left;
    public Parameter Right => Single.Right;
    public Tensor GateMask => Single.GateMask;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (int c = 0; c < candidates.Count; c++)
        {
            if (alive[c])
                sum = sum is null ? candidates[c].call(input) : sum.add_(candidates[c].call(input), Scalars.One);
        }
        return sum!.add_(bias, Scalars.One).MoveToOuterDisposeScope();
    }

    public Tensor ForwardColumns(Tensor columns)
    {
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (int c = 0; c < candidates.Count; c++)
        {
            if (alive[c])
                sum = sum is null ? candidates[c].ForwardColumns(columns) : sum.add_(candidates[c].ForwardColumns(columns), Scalars.One);
        }
        return sum!.add_(bias.unsqueeze(1), Scalars.One).MoveToOuterDisposeScope();
    }

    public Tensor MaterializeWeight()
    {
        using var scope = NewDisposeScope();
        var weight = LiveCandidates.Select(c => c.MaterializeWeight()).Aggregate((a, b) => a.add(b, Scalars.One));
        return weight.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Starts from a trained dense layer: the bias as given, and each candidate from the nearest Kronecker
    /// product of an equal share of the weight (so the candidates' sum starts near <paramref name="weight"/>).
    /// </summary>
    public void InitializeFrom(Tensor weight, Tensor bias)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var count = Scalars.Of(candidates.Count);
        var share = weight.div(count);
        foreach (var candidate in candidates)
            candidate.InitializeFrom(share);
        this.bias.copy_(bias);
    }

    /// <summary>Removes candidate <paramref name="index"/> for good: zeroed, no longer trained or computed.</summary>
    public void RetireCandidate(int index)
    {
        if (alive.Count(a => a) == 1 && alive[index])
            throw new InvalidOperationException($"Cannot retire the last live candidate of layer {GetName()}.");
        candidates[index].Retire();
        using (no_grad())
        using (var flag = candidateAlive[index])
            flag.fill_(Scalars.Zero);
        alive[index] = false;
    }

    /// <summary>
    /// Re-reads which candidates are live from the <c>candidateAlive</c> buffer, after its values were
    /// restored (from a checkpoint, or the best epoch's copy, which may predate a retirement).
    /// </summary>
    public void SyncCandidatesFromBuffer()
    {
        using var host = candidateAlive.to(CPU);
        var flags = host.data<float>().ToArray();
        for (int c = 0; c < flags.Length; c++)
        {
            alive[c] = flags[c] != 0;
            if (alive[c])
            {
                foreach (var parameter in candidates[c].Group)
                    parameter.requires_grad_(true);
            }
            else
            {
                candidates[c].Retire();
            }
        }
    }

    public LayerSparsity Describe(int index)
    {
        var live = LiveCandidates;
        long blocks = 0, zeroBlocks = 0, parameters = OutFeatures, forward = 0, inference = 0;
        foreach (var c in live)
        {
            var (nonZero, liveInputGroups) = c.LiveBlocks();
            long cells = (long)c.GridRows * c.GridColumns;
            blocks += cells;
            zeroBlocks += cells - nonZero;
            parameters += LayerCost.FactoredParameters(InFeatures, OutFeatures, c.Block, Rank) - OutFeatures;
            forward += LayerCost.FactoredForwardFlops(InFeatures, OutFeatures, c.Block, Rank);
            inference += LayerCost.FactoredInferenceFlops(c.Block, Rank, liveInputGroups, nonZero);
        }
        return new LayerSparsity
        {
            Index = index,
            InFeatures = InFeatures,
            OutFeatures = OutFeatures,
            Factored = true,
            PlanNote = PlanNote,
            BlockShape = string.Join("+", live.Select(c => c.Block.ToString())),
            CandidateBlockShapes = candidates.Count > 1 ? candidates.Select(c => c.Block).ToList() : null,
            Rank = Rank,
            Blocks = blocks,
            ZeroBlocks = zeroBlocks,
            TrainableParameters = parameters,
            DenseParameters = LayerCost.DenseParameters(InFeatures, OutFeatures),
            TrainingFlopsPerExample = 3 * forward,
            DenseTrainingFlopsPerExample = 3 * LayerCost.DenseForwardFlops(InFeatures, OutFeatures),
            InferenceFlopsPerExample = inference,
            DenseInferenceFlopsPerExample = LayerCost.DenseForwardFlops(InFeatures, OutFeatures),
        };
    }
}
