namespace Microsoft.ML.BlockSparse;

/// <summary>How <see cref="BlockSparseTrainer.Fit"/> reads its training rows (<see cref="BlockSparseTrainer.Options.DataCaching"/>).</summary>
public enum DataCaching
{
    /// <summary>
    /// <see cref="Memory"/> when the rows' features fit in <see cref="BlockSparseTrainer.Options.MemoryCacheBudgetBytes"/>
    /// (rows × features × 4 bytes, rows counted from the data view), otherwise <see cref="Stream"/>.
    /// </summary>
    Auto,

    /// <summary>
    /// Every row is read once into memory and then onto the training device; each epoch is a full random
    /// permutation of the rows. Fastest when the rows fit.
    /// </summary>
    Memory,

    /// <summary>
    /// Rows are read from the data view's cursor in every epoch (so images are decoded on the fly), shuffled
    /// through a buffer of <see cref="BlockSparseTrainer.Options.ShuffleBufferRows"/> rows: memory stays bounded
    /// by the buffer, whatever the number of rows.
    /// </summary>
    Stream,
}
