using Microsoft.ML.BlockSparse.Layers;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>Removes the candidate block shapes that λ2 has collapsed, so their compute stops.</summary>
internal static class CandidateRetirement
{
    /// <summary>
    /// In every layer with several live candidates, retires each whose share of the weight
    /// <c>‖W_c‖_F</c> is at most <paramref name="fraction"/> of the largest share in that layer (relative,
    /// because the weight's scale depends on the layer). Returns how many were retired.
    /// </summary>
    public static int Apply(IEnumerable<KroneckerLinear> layers, double fraction)
        => Retire(layers, (norm, largest) => norm <= fraction * largest);

    /// <summary>
    /// The search's decision: in every layer with several live candidates, retires all but the one with the largest
    /// share of the weight <c>‖W_c‖_F</c>. Returns how many were retired.
    /// </summary>
    public static int KeepStrongest(IEnumerable<KroneckerLinear> layers) => Retire(layers, (_, _) => true);

    // Retires, per layer, each live candidate but the strongest for which retire(norm, largest norm) holds.
    private static int Retire(IEnumerable<KroneckerLinear> layers, Func<double, double, bool> retire)
    {
        int retired = 0;
        foreach (var layer in layers)
        {
            var live = layer.Candidates.Select((c, i) => (Candidate: c, Index: i)).Where(t => layer.LiveCandidates.Contains(t.Candidate)).ToList();
            if (live.Count < 2)
                continue;
            var norms = live.Select(t =>
            {
                using var scope = TorchSharp.torch.NewDisposeScope();
                return t.Candidate.WeightNorm().to_type(TorchSharp.torch.ScalarType.Float64).item<double>();
            }).ToList();
            double largest = norms.Max();
            // The strongest candidate is never retired, even when every norm has collapsed.
            int keep = norms.IndexOf(largest);
            for (int k = 0; k < live.Count; k++)
            {
                if (k != keep && retire(norms[k], largest))
                {
                    layer.RetireCandidate(live[k].Index);
                    retired++;
                }
            }
        }
        return retired;
    }
}
