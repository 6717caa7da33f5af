using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A plain dense layer: where a layer cannot or should not be factored (the report says why), and for
/// the <see cref="BlockSparseMethod.Dense"/> and <see cref="BlockSparseMethod.GroupLasso"/> baselines.
/// With a <see cref="PenaltyBlock"/> (group lasso) the weight is read as a grid of blocks of that shape,
/// and the report counts its zero blocks.
/// </summary>
internal sealed partial class DenseLinear : nn.Module<Tensor, Tensor>, IBlockSparseLayer
{
    private readonly Parameter weight;  // out × in
    private readonly Parameter bias;

    public DenseLinear(string name, int inFeatures, int outFeatures, string reason, Generator generator, BlockShape? penaltyBlock = null)
        : base(name)
    {
        if (penaltyBlock is { } block && !block.Divides(inFeatures, outFeatures))
            throw new ArgumentException($"Block shape {block} does not tile a {outFeatures}x{inFeatures} weight (out x in).", nameof(penaltyBlock));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Reason = reason;
        PenaltyBlock = penaltyBlock;
        using (var std = Scalars.Of(1.0 / Math.Sqrt(inFeatures)))
            weight = new Parameter(randn([outFeatures, inFeatures], generator: generator).mul_(std));
        bias = new Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>Why this layer is dense, for the report.</summary>
    public string Reason { get; }

    /// <summary>The block shape of the group-lasso penalty, or null for a plain dense layer.</summary>
    public BlockShape? PenaltyBlock { get; }

    public Parameter Weight => weight;
    public Tensor Bias => bias;

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);

    public Tensor ForwardColumns(Tensor columns)
    {
        using var scope = NewDisposeScope();
        return addmm(bias.unsqueeze(1), weight, columns, beta: 1, alpha: 1).MoveToOuterDisposeScope();
    }

    public Tensor MaterializeWeight()
    {
        using var detached = weight.detach();
        return detached.clone();
    }

    /// <summary>Starts from a trained dense layer's weight and bias.</summary>
    public void InitializeFrom(Tensor weight, Tensor bias)
    {
        using var _ = no_grad();
        this.weight.copy_(weight);
        this.bias.copy_(bias);
    }

    /// <summary>
    /// The weight seen as blocks: <c>[p, m, q, n]</c>, a view (block <c>(a, b)</c> is <c>[a, :, b, :]</c>).
    /// </summary>
    public Tensor BlockView(Tensor values)
    {
        var block = PenaltyBlock ?? throw new InvalidOperationException($"Layer {GetName()} has no block shape.");
        var (p, q) = LayerCost.Grid(InFeatures, OutFeatures, block);
        return values.view(p, block.Rows, q, block.Columns);
    }

    /// <summary>Frobenius norm of every block, <c>[p, q]</c>.</summary>
    public Tensor BlockNorms()
    {
        using var scope = NewDisposeScope();
        return BlockView(weight.detach()).pow(Scalars.Two).sum([1, 3]).sqrt().MoveToOuterDisposeScope();
    }

    public LayerSparsity Describe(int index)
    {
        long dense = LayerCost.DenseForwardFlops(InFeatures, OutFeatures);
        long blocks = 0, zeroBlocks = 0, inference = dense;
        if (PenaltyBlock is { } block)
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var nonZero = BlockNorms().gt(Scalars.Zero);
            blocks = nonZero.numel();
            zeroBlocks = blocks - nonZero.sum().item<long>();
            // A block-sparse dense weight skips its zero blocks at inference, as a sparse kernel would.
            inference = 2L * block.Rows * block.Columns * (blocks - zeroBlocks);
        }
        return new LayerSparsity
        {
            Index = index,
            InFeatures = InFeatures,
            OutFeatures = OutFeatures,
            Factored = false,
            DenseReason = Reason,
            BlockShape = PenaltyBlock?.ToString(),
            Rank = 0,
            Blocks = blocks,
            ZeroBlocks = zeroBlocks,
            TrainableParameters = LayerCost.DenseParameters(InFeatures, OutFeatures),
            DenseParameters = LayerCost.DenseParameters(InFeatures, OutFeatures),
            TrainingFlopsPerExample = 3 * dense,
            DenseTrainingFlopsPerExample = 3 * dense,
            InferenceFlopsPerExample = inference,
            DenseInferenceFlopsPerExample = dense,
        };
    }
}
