using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Reporting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// A multilayer perceptron of Kronecker-factored layers (dense where a layer cannot be factored),
/// ReLU between layers, logits out.
/// </summary>
internal sealed class BlockSparseNetwork : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;

    public BlockSparseNetwork(IReadOnlyList<LayerPlan> plan, int rank, ulong seed)
        : base(nameof(BlockSparseNetwork))
    {
        // The generator makes initialisation depend on the seed alone, not on torch's global state.
        using var generator = new Generator(seed);
        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < plan.Count; i++)
        {
            var p = plan[i];
            layers.Add(p.Factored
                ? new KroneckerLinear($"layer{i}", p.InFeatures, p.OutFeatures, p.Candidates, rank, generator)
                : new DenseLinear($"layer{i}", p.InFeatures, p.OutFeatures, p.DenseReason!, generator, p.PenaltyBlock));
        }
        RegisterComponents();
    }

    public int InputSize => Layers[0].InFeatures;
    public int ClassCount => Layers[^1].OutFeatures;

    public IReadOnlyList<IBlockSparseLayer> Layers => layers.Cast<IBlockSparseLayer>().ToList();

    public IEnumerable<KroneckerLinear> FactoredLayers => layers.OfType<KroneckerLinear>();

    /// <summary>Dense layers trained with the group-lasso penalty (Method GroupLasso).</summary>
    public IEnumerable<DenseLinear> GroupLassoLayers => layers.OfType<DenseLinear>().Where(l => l.PenaltyBlock is not null);

    /// <summary>Every live candidate's factor set, over all factored layers.</summary>
    public IEnumerable<KroneckerFactors> LiveFactors => FactoredLayers.SelectMany(l => l.LiveCandidates);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        for (int i = 0; i < layers.Count; i++)
        {
            x = layers[i].call(x);
            if (i + 1 < layers.Count)
                x = nn.functional.relu(x);
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Starts every layer from trained dense weights, one per layer, input side first (already checked
    /// against the layer sizes): factored layers by their nearest Kronecker product.
    /// </summary>
    public void InitializeFrom(IReadOnlyList<DenseLayerWeights> weights)
    {
        var all = Layers;
        for (int i = 0; i < all.Count; i++)
        {
            using var scope = NewDisposeScope();
            var layer = all[i];
            var device = layer.Bias.device;
            var w = tensor(weights[i].Weights, [layer.OutFeatures, layer.InFeatures]).to(device);
            var b = tensor(weights[i].Bias).to(device);
            layer.InitializeFrom(w, b);
        }
    }

    public SparsityReport Report() => new(Layers.Select((l, i) => l.Describe(i)).ToList());
}
