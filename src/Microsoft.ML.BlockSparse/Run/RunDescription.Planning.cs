using Microsoft.ML.BlockSparse.Network;

namespace Microsoft.ML.BlockSparse.Run;

internal sealed partial record RunDescription
{
    /// <summary>
    /// The network for <see cref="Architecture"/> on features of <paramref name="featureLength"/> values:
    /// an MLP, or LeNet5 or a Vision Transformer on <paramref name="image"/>. Planned once; a block shape that fits no layer, or
    /// an image LeNet5 cannot read, is refused here, naming the option.
    /// </summary>
    public NetworkPlan Plan(int featureLength, int classes, ImageShape? image, string featureColumn)
    {
        if (Architecture == NetworkArchitecture.Mlp)
            return NetworkPlan.Mlp(PlanMlp(featureLength, classes));
        var shape = image ?? throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ImageShape),
            $"BlockSparseTrainer.Options.Architecture is {Architecture}, which reads images, but the image shape is unknown: "
            + $"feature column '{featureColumn}' ({featureLength} values) was not made by ExtractPixels. Set BlockSparseTrainer.Options.ImageShape "
            + "(channels x height x width, for example 1x28x28 for MNIST) or extract the pixels with ExtractPixels.");
        if (Architecture == NetworkArchitecture.VisionTransformer)
            return PlanVit(shape, classes);
        RequireLeNet5Fits(shape);
        return LeNet5Plan.Plan(shape, classes, Request with { PerLayerCandidates = null });
    }

    private void RequireLeNet5Fits(ImageShape image)
    {
        if (image.Height < LeNet5Plan.MinimumSide || image.Width < LeNet5Plan.MinimumSide)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ImageShape),
                $"BlockSparseTrainer.Options.Architecture LeNet5 needs images of at least {LeNet5Plan.MinimumSide}x{LeNet5Plan.MinimumSide} pixels "
                + $"(two 5x5 convolutions and two 2x2 poolings); the image shape is {image}.");
        }
        for (int i = 0; i < LeNet5Plan.ConvChannels.Length; i++)
        {
            int inChannels = i == 0 ? image.Channels : LeNet5Plan.ConvChannels[i - 1], outChannels = LeNet5Plan.ConvChannels[i];
            if (Request.PerLayerBlocks?[i] is { } block && !block.Divides(inChannels, outChannels))
            {
                throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.LayerBlockShapes),
                    $"BlockSparseTrainer.Options.LayerBlockShapes[{i}] is {block}, which does not tile LeNet5's convolution {i} "
                    + $"({outChannels} output x {inChannels} input channels): the block rows must divide {outChannels} and the columns {inChannels}.");
            }
        }
    }

    /// <summary>
    /// The MLP's layers, planned once as Kronecker layers (the shapes are checked against that plan: the baselines
    /// use the same shapes, GroupLasso's penalty blocks, or none, and a shape that does not fit is a mistake whichever
    /// method runs), then turned into the layers <see cref="Method"/> trains.
    /// </summary>
    public IReadOnlyList<LayerPlan> PlanMlp(int featureLength, int classes)
    {
        var plan = LayerPlan.KroneckerMlp(featureLength, HiddenLayers, classes, Request);
        if (Request.PerLayerCandidates is { } candidates)
        {
            for (int i = 0; i < plan.Count; i++)
            {
                var misfit = candidates[i].FirstOrDefault(b => !b.Divides(plan[i].InFeatures, plan[i].OutFeatures));
                if (misfit != default)
                {
                    throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.CandidateBlockShapes),
                        $"BlockSparseTrainer.Options.CandidateBlockShapes[{i}] holds {misfit}, which does not tile layer {i} "
                        + $"({plan[i].OutFeatures} out x {plan[i].InFeatures} in): the block rows must divide {plan[i].OutFeatures} and the columns {plan[i].InFeatures}.");
                }
            }
        }
        else if (Request.PerLayerBlocks is { } perLayer)
        {
            var misfit = plan.Select((p, i) => (p, i)).FirstOrDefault(t => !t.p.Factored && perLayer[t.i] is not null);
            if (misfit.p is not null)
            {
                throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.LayerBlockShapes),
                    $"BlockSparseTrainer.Options.LayerBlockShapes[{misfit.i}] is {perLayer[misfit.i]}, which does not tile layer {misfit.i} "
                    + $"({misfit.p.OutFeatures} out x {misfit.p.InFeatures} in): the block rows must divide {misfit.p.OutFeatures} and the columns {misfit.p.InFeatures}.");
            }
        }
        else if (Request.SharedBlock is { } shared && plan.All(p => !p.Factored))
        {
            var sizes = string.Join(", ", plan.Select(p => $"{p.OutFeatures}x{p.InFeatures}"));
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.BlockShape),
                $"BlockSparseTrainer.Options.BlockShape {shared} tiles none of the layers (out x in: {sizes}); every layer would be dense. "
                + "Choose rows that divide a layer's output size and columns that divide its input size, or leave BlockShape null to choose per layer.");
        }
        return LayerPlan.ForMethod(plan, Method);
    }
}
