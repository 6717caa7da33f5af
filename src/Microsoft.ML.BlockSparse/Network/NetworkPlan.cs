namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// The whole network to build: convolution stages on the image (none for an MLP), then the linear layers on
/// the flattened result. <see cref="Image"/> is the shape the flat feature vector is read as (null: flat).
/// </summary>
internal sealed record NetworkPlan(NetworkArchitecture Architecture, ImageShape? Image, IReadOnlyList<ConvPlan> Convolutions,
    IReadOnlyList<LayerPlan> Linear)
{
    /// <summary>An MLP: linear layers only, on flat features.</summary>
    public static NetworkPlan Mlp(IReadOnlyList<LayerPlan> linear) => new(NetworkArchitecture.Mlp, null, [], linear);

    /// <summary>All layers, convolutions first, as the report and the fingerprint describe them.</summary>
    public IEnumerable<string> Describe()
        => Convolutions.Select(c => $"conv {c.InChannels}->{c.OutChannels} {c.Kernel}x{c.Kernel} "
                + (c.Block is { } b ? $"{b.Rows}x{b.Columns}x{c.Kernel}x{c.Kernel}" : "dense")
                + (c.Pool > 1 ? $", pool {c.Pool}" : ""))
            .Concat(Linear.Select(p => $"{p.InFeatures}->{p.OutFeatures} "
                + (p.Factored ? string.Join("/", p.Candidates) : p.PenaltyBlock is { } penalty ? $"dense, penalty {penalty}" : "dense")));
}
