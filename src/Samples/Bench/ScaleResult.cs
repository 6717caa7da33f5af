namespace Samples.Bench;

/// <summary>One row of <c>bench --scale</c> (one object of scale.json): one square layer's training step, dense against factored.</summary>
internal sealed record ScaleResult
{
    public required int Width { get; init; }
    public required int Rank { get; init; }
    public required int Threads { get; init; }

    /// <summary>The factored layer's block shape (balanced: blocks about as many as block entries each way).</summary>
    public required string Block { get; init; }

    /// <summary>Factored over dense training FLOPs, <c>r·(1/p + 1/n)</c> (LayerCost's formula).</summary>
    public required double FlopRatio { get; init; }

    /// <summary>Median milliseconds of one dense step (forward, backward, Adam).</summary>
    public required double DenseMs { get; init; }
    public required double FactoredMs { get; init; }
    public required double DenseMinMs { get; init; }
    public required double FactoredMinMs { get; init; }

    /// <summary><see cref="FactoredMs"/> / <see cref="DenseMs"/>: below 1 the factored layer trains faster.</summary>
    public required double WallRatio { get; init; }

    /// <summary><see cref="FactoredMinMs"/> / <see cref="DenseMinMs"/>.</summary>
    public required double MinWallRatio { get; init; }

    /// <summary>Median minor page faults per step (Linux /proc/self/stat; -1 where it cannot be read).</summary>
    public required double DenseFaultsPerStep { get; init; }
    public required double FactoredFaultsPerStep { get; init; }

    /// <summary>Whether glibc's malloc was tuned for this run (NativeAllocator; off with --no-malloc-tuning).</summary>
    public required bool MallocTuned { get; init; }

    /// <summary>Timed samples per method; each sample averages <see cref="StepsPerSample"/> steps.</summary>
    public required int Repeats { get; init; }
    public required int StepsPerSample { get; init; }
    public required int Batch { get; init; }
}
