using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.BlockSparse.Transformer;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// A network of Kronecker-factored layers (dense where a layer cannot be factored), logits out: an MLP
/// (ReLU between linear layers), or convolution stages (convolution, ReLU, max pooling) on the image the
/// flat input is read as, then the linear layers on the flattened maps (<see cref="NetworkPlan"/>).
/// </summary>
internal sealed class BlockSparseNetwork : nn.Module<Tensor, Tensor>
{
    // Field names become parameter names: the MLP's stay layers.N.*, and an MLP has no convolutions to name.
    private readonly ModuleList<nn.Module<Tensor, Tensor>> convolutions;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    private readonly ModuleList<VisionTransformerEncoder> transformer;   // the encoder of a Vision Transformer; empty otherwise
    private readonly IReadOnlyList<ConvPlan> convolutionPlans;

    public BlockSparseNetwork(IReadOnlyList<LayerPlan> plan, ulong seed)
        : this(NetworkPlan.Mlp(plan), seed)
    {
    }

    public BlockSparseNetwork(NetworkPlan plan, ulong seed)
        : base(nameof(BlockSparseNetwork))
    {
        // The generator makes initialisation depend on the seed alone, not on torch's global state.
        using var generator = new Generator(seed);
        Image = plan.Image;
        if (plan.Convolutions.Count > 0 && plan.Image is null)
            throw new ArgumentException("A network with convolutions needs the image shape its flat input is read as.", nameof(plan));
        convolutions = new ModuleList<nn.Module<Tensor, Tensor>>();
        convolutionPlans = plan.Convolutions;
        for (int i = 0; i < plan.Convolutions.Count; i++)
        {
            var c = plan.Convolutions[i];
            var kernel = (c.Kernel, c.Kernel);
            convolutions.Add(c.Block is { } block
                ? new KroneckerConv2d($"conv{i}", c.InChannels, c.OutChannels, kernel, block, c.Rank, c.Input, generator, padding: c.Padding)
                : new DenseConv2d($"conv{i}", c.InChannels, c.OutChannels, kernel, c.Input, c.DenseReason!, generator, padding: c.Padding));
        }
        transformer = new ModuleList<VisionTransformerEncoder>();
        if (plan.Transformer is { } vit)
            transformer.Add(new VisionTransformerEncoder("transformer", vit, generator));
        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < plan.Linear.Count; i++)
        {
            var p = plan.Linear[i];
            layers.Add(p.Factored
                ? new KroneckerLinear($"layer{i}", p.InFeatures, p.OutFeatures, p.Candidates, p.Rank, generator) { PlanNote = p.Note }
                : new DenseLinear($"layer{i}", p.InFeatures, p.OutFeatures, p.DenseReason!, generator, p.PenaltyBlock));
        }
        RegisterComponents();
    }

    /// <summary>The shape the flat input is read as by the convolutions; null for an MLP.</summary>
    public ImageShape? Image { get; }

    /// <summary>The convolution stages, input side first (none for an MLP); each is followed by ReLU and its pooling.</summary>
    public IReadOnlyList<IConvolutionLayer> Convolutions => convolutions.Cast<IConvolutionLayer>().ToList();

    /// <summary>Max pooling window after convolution <c>i</c> (1: none).</summary>
    public int PoolAfter(int i) => convolutionPlans[i].Pool;

    public int InputSize => Image is { } image ? (int)image.Length : Layers[0].InFeatures;
    public int ClassCount => Layers[^1].OutFeatures;

    /// <summary>The linear layers, after the convolutions (if any).</summary>
    public IReadOnlyList<IBlockSparseLayer> Layers => layers.Cast<IBlockSparseLayer>().ToList();

    /// <summary>The Vision Transformer's encoder (patches to one vector per image); null for other architectures.</summary>
    public VisionTransformerEncoder? Encoder => transformer.Count > 0 ? transformer[0] : null;

    /// <summary>Every linear layer: the encoder's (if any), then <see cref="Layers"/>.</summary>
    private IEnumerable<IBlockSparseLayer> AllLinear => (Encoder?.NamedLayers.Select(l => l.Layer) ?? []).Concat(Layers);

    public IEnumerable<KroneckerLinear> FactoredLayers => AllLinear.OfType<KroneckerLinear>();

    /// <summary>Dense layers trained with the group-lasso penalty (Method GroupLasso).</summary>
    public IEnumerable<DenseLinear> GroupLassoLayers => AllLinear.OfType<DenseLinear>().Where(l => l.PenaltyBlock is not null);

    /// <summary>Every live candidate's factor set, over all factored layers.</summary>
    public IEnumerable<KroneckerFactors> LiveFactors => FactoredLayers.SelectMany(l => l.LiveCandidates);

    /// <summary>Everything with block gates that λ1, hard pruning and the gate masks act on: factored convolutions, then live linear candidates.</summary>
    public IEnumerable<IGatedBlocks> GatedBlocks => convolutions.OfType<KroneckerConv2d>().Cast<IGatedBlocks>().Concat(LiveFactors);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        if (Encoder is { } encoder)
        {
            x = encoder.call(x);
        }
        else if (Image is { } image)
        {
            x = x.reshape(x.shape[0], image.Channels, image.Height, image.Width);
            for (int i = 0; i < convolutions.Count; i++)
            {
                x = nn.functional.relu(convolutions[i].call(x));
                int pool = convolutionPlans[i].Pool;
                if (pool > 1)
                    x = nn.functional.max_pool2d(x, pool, pool);
            }
            x = x.flatten(1);
        }
        // The linear stack runs one column per row (IBlockSparseLayer.ForwardColumns): one copy of its input here,
        // and the logits come back as a transposed view.
        x = x.t().contiguous();
        for (int i = 0; i < layers.Count; i++)
        {
            x = ((IBlockSparseLayer)layers[i]).ForwardColumns(x);
            if (i + 1 < layers.Count)
                x = nn.functional.relu(x);
        }
        return x.t().MoveToOuterDisposeScope();
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

    /// <summary>
    /// One row per layer, convolutions first (indices run on through the linear layers); a Vision Transformer's
    /// encoder rows come first, named, then its classifier as <c>head</c>.
    /// </summary>
    public SparsityReport Report()
    {
        if (Encoder is { } encoder)
        {
            var encoderRows = VitReport.Rows(encoder).ToList();
            var head = Layers.Select((l, i) => l.Describe(encoderRows.Count + i)).Select(r => VitReport.PerExample(r, VitPlan.HeadName, 1));
            return new(encoderRows.Concat(head).ToList());
        }
        var convolutionRows = Convolutions.Select((c, i) => c.Describe(i)).ToList();
        return new(convolutionRows.Concat(Layers.Select((l, i) => l.Describe(convolutionRows.Count + i))).ToList());
    }
}
