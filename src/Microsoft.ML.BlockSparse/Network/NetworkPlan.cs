namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// The whole network to build: convolution stages on the image (none for an MLP), then the linear layers on
/// the flattened result. <see cref="Image"/> is the shape the flat feature vector is read as (null: flat).
/// </summary>
/// <remarks>A Vision Transformer has no convolutions; its encoder (<see cref="Transformer"/>) replaces them, and <see cref="Linear"/> holds its classifier.</remarks>
internal sealed record NetworkPlan(NetworkArchitecture Architecture, ImageShape? Image, IReadOnlyList<ConvPlan> Convolutions,
    IReadOnlyList<LayerPlan> Linear, VitPlan? Transformer = null)
{
    /// <summary>An MLP: linear layers only, on flat features.</summary>
    public static NetworkPlan Mlp(IReadOnlyList<LayerPlan> linear) => new(NetworkArchitecture.Mlp, null, [], linear);

    /// <summary>All layers, convolutions first, as the report and the fingerprint describe them.</summary>
    public IEnumerable<string> Describe()
        => Convolutions.Select(c => $"conv {c.InChannels}->{c.OutChannels} {c.Kernel}x{c.Kernel} "
                + (c.Block is { } b ? $"{b.Rows}x{b.Columns}x{c.Kernel}x{c.Kernel}" : "dense")
                + (c.Pool > 1 ? $", pool {c.Pool}" : ""))
            .Concat(Transformer is { } vit ? [vit.Shape.ToString()] : [])
            .Concat((Transformer?.Encoder ?? []).Concat(Linear).Select(p => $"{p.InFeatures}->{p.OutFeatures} "
                + (p.Factored ? string.Join("/", p.Candidates) : p.PenaltyBlock is { } penalty ? $"dense, penalty {penalty}" : "dense")));
}
