using Microsoft.ML.BlockSparse.Network;

namespace Microsoft.ML.BlockSparse.Run;

/// <summary>Checks <see cref="BlockSparseTrainer.Options.InitialWeights"/> against the planned layers before anything is copied.</summary>
internal static class InitialWeightsCheck
{
    /// <summary>Refuses initial weights for a network with convolutions, then checks them against its linear layers.</summary>
    public static void Check(IReadOnlyList<DenseLayerWeights> weights, NetworkPlan plan)
    {
        if (plan.Convolutions.Count > 0 || plan.Transformer is not null)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.InitialWeights),
                $"BlockSparseTrainer.Options.InitialWeights is set, but Architecture {plan.Architecture} has {(plan.Transformer is null ? "convolutions" : "an encoder")}, which cannot start from dense linear weights; use it with the Mlp architecture.");
        }
        Check(weights, plan.Linear);
    }

    public static void Check(IReadOnlyList<DenseLayerWeights> weights, IReadOnlyList<LayerPlan> plan)
    {
        const string option = nameof(BlockSparseTrainer.Options.InitialWeights);
        if (weights.Count != plan.Count)
        {
            throw new ArgumentException($"BlockSparseTrainer.Options.{option} has {weights.Count} layers; the network has {plan.Count} "
                + $"({string.Join(", ", plan.Select(p => $"{p.InFeatures}->{p.OutFeatures}"))}).", option);
        }
        for (int i = 0; i < plan.Count; i++)
        {
            var (layer, given) = (plan[i], weights[i]);
            if (given?.Weights is null || given.Bias is null)
                throw new ArgumentException($"BlockSparseTrainer.Options.{option}[{i}] needs both Weights and Bias.", option);
            long expected = (long)layer.OutFeatures * layer.InFeatures;
            if (given.Weights.Length != expected || given.Bias.Length != layer.OutFeatures)
            {
                throw new ArgumentException($"BlockSparseTrainer.Options.{option}[{i}] has {given.Weights.Length} weights and {given.Bias.Length} biases; "
                    + $"layer {i} ({layer.InFeatures} in, {layer.OutFeatures} out) needs {expected} weights (out x in, row by row) and {layer.OutFeatures} biases.", option);
            }
            if (given.Weights.Any(v => !float.IsFinite(v)) || given.Bias.Any(v => !float.IsFinite(v)))
                throw new ArgumentException($"BlockSparseTrainer.Options.{option}[{i}] holds NaN or infinite values.", option);
        }
    }
}
