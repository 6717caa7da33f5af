using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>
/// Everything that makes one run's network sparse, behind the hooks the training loop calls: after each
/// optimiser step the proximal steps of λ1 (gates), λ2 (candidate block shapes) and the group-lasso
/// baseline's block penalty, then the persistent gate masks; after each epoch hard pruning and the
/// retirement of candidates λ2 has collapsed; after training the group-lasso baseline's pruning.
/// </summary>
internal sealed class SparsityHooks : IDisposable
{
    private readonly BlockSparseNetwork network;
    private readonly IProximalMetric optimizer;
    private readonly SparsitySettings settings;
    private readonly List<KroneckerLinear> factored;
    private readonly List<DenseLinear> groupLasso;
    private readonly int gatedCount;
    private readonly FlatGateMasks masks;
    private readonly bool gatesSideBySide;
    private readonly Tensor allGates;
    private readonly Tensor gateMetric;
    private List<IGatedBlocks> live = [];
    private bool oneMaskOperation;

    /// <summary>Hooks for <paramref name="network"/>; <paramref name="optimizer"/> is built over <see cref="ParameterOrder"/>, so the gates lie side by side in its buffer.</summary>
    public SparsityHooks(BlockSparseNetwork network, IProximalMetric optimizer, SparsitySettings settings)
    {
        this.network = network;
        this.optimizer = optimizer;
        this.settings = settings;
        factored = network.FactoredLayers.ToList();
        groupLasso = network.GroupLassoLayers.ToList();
        Choosing = factored.Any(l => l.Candidates.Count > 1);
        var gated = network.GatedBlocks.ToList();
        gatedCount = gated.Count;
        masks = new FlatGateMasks(gated);
        gatesSideBySide = optimizer.TryContiguous(gated.Select(g => g.Gate).ToList(), out allGates, out gateMetric);
    }

    /// <summary>The network's parameters for the optimiser, gates first and side by side, so λ1's step is one operation.</summary>
    public static IEnumerable<Parameter> ParameterOrder(BlockSparseNetwork network)
    {
        var gates = network.GatedBlocks.Select(g => g.Gate).ToList();
        var gateSet = new HashSet<Parameter>(gates, ReferenceEqualityComparer.Instance);
        return gates.Concat(network.parameters().Where(p => !gateSet.Contains(p)));
    }

    /// <summary>Whether some layer still chooses among candidate block shapes (λ2 is active).</summary>
    public bool Choosing { get; }

    /// <summary>λ1 in the current epoch.</summary>
    public double Lambda1 { get; private set; }

    /// <summary>λ2 in the current epoch.</summary>
    public double Lambda2 { get; private set; }

    /// <summary>Whether the network has block gates at all (the baselines have none).</summary>
    public bool HasGates => factored.Count > 0;

    /// <summary>Takes the epoch's λs and the gates live now (retirement happens at the epoch's end).</summary>
    public void BeginEpoch(int epoch)
    {
        Lambda1 = settings.Lambda1.At(epoch);
        Lambda2 = settings.Lambda2.At(epoch);
        live = network.GatedBlocks.ToList();
        // Until λ2 retires a candidate, every gate is live and the masks apply in one operation.
        oneMaskOperation = gatesSideBySide && live.Count == gatedCount;
    }

    /// <summary>The proximal steps right after the optimiser's step at <paramref name="learningRate"/>, then the masks.</summary>
    public void AfterStep(double learningRate)
    {
        ProximalPenalties.GateL1(live, optimizer, learningRate, Lambda1);
        if (Choosing)
            ProximalPenalties.CandidateGroups(factored, optimizer, learningRate, Lambda2);
        if (groupLasso.Count > 0)
            ProximalPenalties.WeightBlocks(groupLasso, optimizer, learningRate, settings.GroupLassoLambda);
        using var _ = no_grad();
        if (oneMaskOperation)
            allGates.mul_(masks.Values);
        else
            live.ForEach(candidate => candidate.ApplyGateMask());
    }

    /// <summary>
    /// Every <c>PruneEveryEpochs</c> epochs hard pruning; after every epoch the retirement of collapsed candidates,
    /// and from the decision epoch on (<see cref="SparsitySettings.DecisionEpochs"/>) only each layer's strongest candidate is kept.
    /// </summary>
    public void AfterEpoch(int epoch)
    {
        if (settings.PruneEveryEpochs > 0 && (epoch + 1) % settings.PruneEveryEpochs == 0)
        {
            foreach (var candidate in network.GatedBlocks)
                candidate.PruneGatesBelow(settings.PruneThreshold);
        }
        if (Choosing)
        {
            CandidateRetirement.Apply(factored, settings.CandidateRetireFraction);
            // ">=" rather than "==": a no-op once decided, and the same after a resume from any epoch.
            if (settings.DecisionEpochs > 0 && epoch + 1 >= settings.DecisionEpochs)
                CandidateRetirement.KeepStrongest(factored);
        }
    }

    /// <summary>The group-lasso baseline prunes once, on the weights training keeps (the best epoch's, with early stopping).</summary>
    public void AfterTraining()
    {
        foreach (var layer in groupLasso)
            layer.PruneBlocks(settings.GroupLassoPruneThreshold, settings.TargetBlockSparsity);
    }

    /// <summary>λ1's penalty <c>λ1·Σ‖S‖₁</c> on the gates now.</summary>
    public double GatePenalty() => Lambda1 * GateL1();

    private double GateL1()
    {
        using var _ = no_grad();
        double total = 0;
        foreach (var candidate in network.GatedBlocks)
        {
            using var scope = NewDisposeScope();
            var norm = candidate.Gate.abs().sum();
            total += norm.to_type(ScalarType.Float64).item<double>();
        }
        return total;
    }

    public void Dispose()
    {
        gateMetric?.Dispose();
        allGates?.Dispose();
        masks.Dispose();
    }
}
