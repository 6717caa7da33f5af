using Microsoft.ML.BlockSparse.Network;

namespace Microsoft.ML.BlockSparse.Run;

internal sealed partial record RunDescription
{
    // The Vision Transformer's sizes on their own; the image shape is checked against the patch size when it is known (Plan).
    private static void ValidateVit(BlockSparseTrainer.Options options)
    {
        Require(options.VitPatchSize >= 1, nameof(BlockSparseTrainer.Options.VitPatchSize), $"is {options.VitPatchSize}; a patch needs at least 1 pixel a side");
        Require(options.VitDimension >= 1, nameof(BlockSparseTrainer.Options.VitDimension), $"is {options.VitDimension}; the tokens need at least 1 value");
        Require(options.VitDepth >= 1, nameof(BlockSparseTrainer.Options.VitDepth), $"is {options.VitDepth}; the encoder needs at least 1 block");
        Require(options.VitHeads >= 1, nameof(BlockSparseTrainer.Options.VitHeads), $"is {options.VitHeads}; attention needs at least 1 head");
        Require(options.VitMlpRatio >= 1, nameof(BlockSparseTrainer.Options.VitMlpRatio), $"is {options.VitMlpRatio}; the MLP's hidden width is at least VitDimension");
        Require(options.VitDimension % Math.Max(1, options.VitHeads) == 0, nameof(BlockSparseTrainer.Options.VitDimension),
            $"is {options.VitDimension}, which VitHeads ({options.VitHeads}) does not divide; every head reads VitDimension / VitHeads values, so choose a multiple of {options.VitHeads}");
    }

    /// <summary>The Vision Transformer's sizes as the options give them (read only for that architecture).</summary>
    private static VitShape VitShapeOf(BlockSparseTrainer.Options options)
        => new(options.VitPatchSize, options.VitDimension, options.VitDepth, options.VitHeads, options.VitMlpRatio);

    private NetworkPlan PlanVit(ImageShape image, int classes)
    {
        if (image.Height % Vit.PatchSize != 0 || image.Width % Vit.PatchSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.VitPatchSize),
                $"BlockSparseTrainer.Options.VitPatchSize is {Vit.PatchSize}, which does not divide the image shape {image} "
                + $"(height {image.Height}, width {image.Width}); choose a patch side that divides both, for example "
                + $"{string.Join(" or ", CommonDivisors(image.Height, image.Width).Where(d => d > 1).TakeLast(3))}.");
        }
        var plan = VitPlan.Plan(image, Vit, classes, Request);
        var layers = plan.Transformer!.AllLayers(plan.Linear);
        if (Request.PerLayerCandidates is { } candidates)
        {
            for (int i = 0; i < layers.Count; i++)
            {
                var misfit = candidates[i].FirstOrDefault(b => !b.Divides(layers[i].Plan.InFeatures, layers[i].Plan.OutFeatures));
                if (misfit != default)
                    throw Misfit(nameof(BlockSparseTrainer.Options.CandidateBlockShapes), i, misfit, layers[i]);
            }
        }
        else if (Request.PerLayerBlocks is { } perLayer)
        {
            for (int i = 0; i < layers.Count; i++)
            {
                if (perLayer[i] is { } block && !block.Divides(layers[i].Plan.InFeatures, layers[i].Plan.OutFeatures))
                    throw Misfit(nameof(BlockSparseTrainer.Options.LayerBlockShapes), i, block, layers[i]);
            }
        }
        return plan;
    }

    private static ArgumentOutOfRangeException Misfit(string option, int index, BlockShape block, (string Name, LayerPlan Plan) layer)
        => new(option, $"BlockSparseTrainer.Options.{option}[{index}] is {block}, which does not tile the Vision Transformer's layer {layer.Name} "
            + $"({layer.Plan.OutFeatures} out x {layer.Plan.InFeatures} in): the block rows must divide {layer.Plan.OutFeatures} and the columns {layer.Plan.InFeatures}.");

    private static IEnumerable<int> CommonDivisors(int a, int b) => Enumerable.Range(1, Math.Min(a, b)).Where(d => a % d == 0 && b % d == 0);
}
