namespace Microsoft.ML.BlockSparse.Batching;

/// <summary>
/// Which rows of a streamed data view are trained on and which are held out for validation
/// (<see cref="BlockSparseTrainer.Options.ValidationFraction"/>): row <c>i</c> (its 0-based position in the data
/// view, rows with a missing label counted) is held out when a hash of the seed and <c>i</c>, read as a fraction
/// of 2^64, is below the fraction. So the split needs no pass over the data and no memory, is the same in
/// every epoch and every run with that seed, and holds out about (not exactly) that fraction of the rows.
/// </summary>
internal readonly record struct RowSplit(RowPart Part, double Fraction, ulong Seed)
{
    public static readonly RowSplit All = new(RowPart.All, 0, 0);

    /// <summary>Whether the row at <paramref name="position"/> belongs to this part.</summary>
    public bool Includes(long position)
    {
        if (Part == RowPart.All)
            return true;
        bool held = IsHeld(position, Fraction, Seed);
        return Part == RowPart.Validation ? held : !held;
    }

    public static bool IsHeld(long position, double fraction, ulong seed)
    {
        // fraction < 1, so the threshold fits; 2^64 as a double is exact.
        ulong threshold = (ulong)(fraction * 18446744073709551616.0);
        return StreamRandom.Mix(StreamRandom.Mix(seed + 2) ^ (ulong)position) < threshold;
    }
}

/// <summary>The rows a <see cref="RowSplit"/> keeps.</summary>
internal enum RowPart
{
    All,
    Training,
    Validation,
}
