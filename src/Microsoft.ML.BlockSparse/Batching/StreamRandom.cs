namespace Microsoft.ML.BlockSparse.Batching;

/// <summary>
/// SplitMix64: a small generator defined by its arithmetic alone, so a seed gives the same numbers on every
/// platform and .NET version. Streaming derives everything random from it (the shuffle buffer's draws, the
/// validation split), keyed by the seed and the epoch, so a run needs no generator state to resume.
/// </summary>
internal struct StreamRandom(ulong state)
{
    private ulong state = state;

    /// <summary>A generator for one purpose of one run: mixing the key spreads nearby seeds and epochs apart.</summary>
    public static StreamRandom For(ulong seed, ulong purpose, long epoch)
        => new(Mix(seed ^ Mix(purpose + 0x632BE59BD9B4E019UL) ^ Mix((ulong)epoch + 0x9E3779B97F4A7C15UL)));

    public ulong Next()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>) (multiply-shift; the bias is below 2^-32).</summary>
    public int Next(int bound) => (int)(((Next() >> 32) * (ulong)bound) >> 32);

    /// <summary>SplitMix64's finaliser: a bijection that makes every input bit affect every output bit.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
