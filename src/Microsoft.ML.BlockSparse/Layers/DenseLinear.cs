using Microsoft.ML.BlockSparse.Reporting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A plain dense layer, used where the requested block shape does not tile the layer's sizes.
/// The report marks it (and why) so a user is not surprised by its cost.
/// </summary>
internal sealed class DenseLinear : nn.Module<Tensor, Tensor>, IBlockSparseLayer
{
    private readonly Parameter weight;  // out × in
    private readonly Parameter bias;

    public DenseLinear(string name, int inFeatures, int outFeatures, string reason, Generator generator)
        : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Reason = reason;
        weight = new Parameter(randn([outFeatures, inFeatures], generator: generator).mul_(1.0 / Math.Sqrt(inFeatures)));
        bias = new Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>Why this layer is dense, for the report.</summary>
    public string Reason { get; }

    public Tensor Weight => weight;
    public Tensor Bias => bias;

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);

    public Tensor MaterializeWeight() => weight.detach().clone();

    public LayerSparsity Describe(int index)
    {
        long dense = LayerCost.DenseForwardFlops(InFeatures, OutFeatures);
        return new LayerSparsity
        {
            Index = index,
            InFeatures = InFeatures,
            OutFeatures = OutFeatures,
            Factored = false,
            DenseReason = Reason,
            Rank = 0,
            Blocks = 0,
            ZeroBlocks = 0,
            TrainableParameters = LayerCost.DenseParameters(InFeatures, OutFeatures),
            DenseParameters = LayerCost.DenseParameters(InFeatures, OutFeatures),
            TrainingFlopsPerExample = 3 * dense,
            DenseTrainingFlopsPerExample = 3 * dense,
            InferenceFlopsPerExample = dense,
            DenseInferenceFlopsPerExample = dense,
        };
    }
}
