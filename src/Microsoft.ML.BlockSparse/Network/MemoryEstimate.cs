using System.Globalization;
using Microsoft.ML.BlockSparse.Layers;

namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// How much memory training a planned network takes, from the plan alone, so a plan that cannot fit
/// is refused with the figures before anything is allocated (instead of the kernel's OOM killer
/// ending the process minutes later, or libtorch aborting it on an allocation it cannot make).
/// </summary>
/// <remarks>
/// An estimate, on the high side: every parameter is held five times while training (its value, its
/// gradient, Adam's two moments and the metric, see <c>ProximalAdam</c>), once more for the best epoch
/// with early stopping, and a batch keeps about three values per activation for the backward pass
/// (the output, the ReLU's and the gradient).
/// </remarks>
internal sealed record MemoryEstimate(double ParameterCount, double BytesPerBatchRow, string LargestLayer, double LargestLayerParameters)
{
    private const double BytesPerValue = sizeof(float);
    private const double CopiesPerParameter = 5;
    private const double ValuesPerActivation = 3;

    /// <summary>The plan's parameters and activations (each factored layer at its planned rank).</summary>
    public static MemoryEstimate Of(NetworkPlan plan)
    {
        double parameters = 0, activations = 0, largest = -1;
        string largestLayer = "";
        void Add(string layer, double layerParameters, double layerActivations)
        {
            parameters += layerParameters;
            activations += layerActivations;
            if (layerParameters > largest)
                (largest, largestLayer) = (layerParameters, layer);
        }
        foreach (var conv in plan.Convolutions)
        {
            var kernel = (conv.Kernel, conv.Kernel);
            double outputs = (double)conv.OutChannels * conv.ConvOutput.Height * conv.ConvOutput.Width;
            if (conv.Block is { } block)
            {
                int rank = conv.Rank;
                var (_, q) = LayerCost.Grid(conv.InChannels, conv.OutChannels, block);
                // The small convolution's output, [q, r·m, Ho, Wo] per example, before the groups are mixed.
                Add($"conv {conv.InChannels}->{conv.OutChannels} (block {block}, rank {rank})",
                    ConvCost.FactoredParameters(conv.InChannels, conv.OutChannels, kernel, block, rank),
                    outputs + (double)q * rank * block.Rows * conv.ConvOutput.Height * conv.ConvOutput.Width);
            }
            else
            {
                Add($"conv {conv.InChannels}->{conv.OutChannels} (dense)", ConvCost.DenseParameters(conv.InChannels, conv.OutChannels, kernel), outputs);
            }
        }
        if (plan.Transformer is { } vit)
        {
            // Every encoder layer runs on each token; attention keeps its [heads, T, T] scores, and each block about
            // six [T, d] values more (norms, residuals, GELU).
            int tokens = vit.Tokens, d = vit.Shape.Dimension;
            foreach (var (name, layer) in vit.AllLayers([]))
            {
                double layerParameters = layer.Factored
                    ? layer.Candidates.Sum(b => (double)LayerCost.FactoredParameters(layer.InFeatures, layer.OutFeatures, b, layer.Rank))
                    : LayerCost.DenseParameters(layer.InFeatures, layer.OutFeatures);
                double perToken = layer.OutFeatures + (layer.Factored
                    ? layer.Candidates.Sum(b => (double)LayerCost.Grid(layer.InFeatures, layer.OutFeatures, b).Q * layer.Rank * b.Rows) : 0);
                Add($"{name} {layer.InFeatures}->{layer.OutFeatures}", layerParameters, perToken * tokens);
            }
            Add("attention and norms", (double)tokens * d + 4.0 * d * vit.Shape.Depth + 2 * d,
                vit.Shape.Depth * ((double)vit.Shape.Heads * tokens * tokens + 6.0 * tokens * d));
        }
        foreach (var layer in plan.Linear)
        {
            if (!layer.Factored)
            {
                Add($"{layer.InFeatures}->{layer.OutFeatures} (dense)", LayerCost.DenseParameters(layer.InFeatures, layer.OutFeatures), layer.OutFeatures);
                continue;
            }
            int rank = layer.Rank;
            foreach (var block in layer.Candidates)
            {
                var (_, q) = LayerCost.Grid(layer.InFeatures, layer.OutFeatures, block);
                // The projection X·Bᵀ, [q, r·m] per example, then the layer's output.
                Add($"{layer.InFeatures}->{layer.OutFeatures} (block {block}, rank {rank})",
                    LayerCost.FactoredParameters(layer.InFeatures, layer.OutFeatures, block, rank),
                    (double)q * rank * block.Rows + layer.OutFeatures);
            }
        }
        return new MemoryEstimate(parameters, activations * ValuesPerActivation * BytesPerValue, largestLayer, largest);
    }

    /// <summary>Bytes to train with batches of <paramref name="batchSize"/> rows, keeping a copy of the best epoch's weights or not.</summary>
    public double TrainingBytes(int batchSize, bool keepsBestWeights)
        => ParameterCount * BytesPerValue * (CopiesPerParameter + (keepsBestWeights ? 1 : 0)) + BytesPerBatchRow * batchSize;

    /// <summary>
    /// Refuses the plan when training it needs more than <paramref name="availableBytes"/>, naming the
    /// estimate and the largest layer; <paramref name="remedy"/>, the caller's, says what to change.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The plan does not fit.</exception>
    public void Require(int batchSize, bool keepsBestWeights, double availableBytes, string remedy)
    {
        double needed = TrainingBytes(batchSize, keepsBestWeights);
        if (needed <= availableBytes)
            return;
        throw new InsufficientMemoryException(
            $"The planned network needs about {Size(needed)} of memory to train, more than the {Size(availableBytes)} this process can use: "
            + $"{ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters (each held {CopiesPerParameter:0} times while training), "
            + $"the largest layer {LargestLayer} with {LargestLayerParameters.ToString("N0", CultureInfo.InvariantCulture)}, "
            + $"and {Size(BytesPerBatchRow * batchSize)} of activations for a batch of {batchSize}. "
            + $"{remedy} Nothing was allocated.");
    }

    private static string Size(double bytes)
    {
        string[] units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return bytes >= 1e6 ? bytes.ToString("0.0e0", CultureInfo.InvariantCulture) + " " + units[unit]
            : bytes.ToString(unit == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
