using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Batching;

/// <summary>
/// Labelled rows the training loop reads in mini-batches: held in memory on the device
/// (<see cref="InMemoryBatches"/>) or read from a data view's cursor every time (<see cref="StreamedRows"/>).
/// </summary>
internal interface IRowBatches : IDisposable
{
    /// <summary>How many rows one pass yields.</summary>
    long Count { get; }

    /// <summary>
    /// One epoch's rows in a random order. In memory the order is a permutation drawn from
    /// <paramref name="shuffler"/> (the run's generator, whose state a checkpoint keeps); streamed rows derive
    /// their order from the seed and <paramref name="epoch"/> alone, so a resumed epoch repeats it.
    /// </summary>
    IBatchReader Shuffled(int epoch, Generator shuffler, long batchSize);

    /// <summary>The rows in their order, for validation.</summary>
    IBatchReader InOrder(long batchSize);
}

/// <summary>One pass over <see cref="IRowBatches"/>.</summary>
internal interface IBatchReader : IDisposable
{
    /// <summary>
    /// The next batch: features <c>[n, in]</c> and class indices <c>[n]</c> (int64) on the training device,
    /// created in the caller's dispose scope; false after the last batch.
    /// </summary>
    bool TryNext(out Tensor features, out Tensor labels);
}
