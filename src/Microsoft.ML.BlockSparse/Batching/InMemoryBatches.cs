using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Batching;

/// <summary>
/// Rows held on the training device (<see cref="DataCaching.Memory"/>): each epoch is a permutation of all
/// rows drawn from the run's generator, exactly as before streaming existed, so in-memory results are unchanged.
/// Owns and disposes the rows.
/// </summary>
internal sealed class InMemoryBatches(LabelledRows rows) : IRowBatches
{
    public LabelledRows Rows { get; } = rows;

    public long Count => Rows.Count;

    public IBatchReader Shuffled(int epoch, Generator shuffler, long batchSize)
    {
        var hostOrder = randperm(Rows.Count, generator: shuffler);
        var order = hostOrder.to(Rows.Features.device);
        return new Reader(Rows, batchSize, hostOrder, order);
    }

    public IBatchReader InOrder(long batchSize) => new Reader(Rows, batchSize, null, null);

    public void Dispose() => Rows.Dispose();

    private sealed class Reader(LabelledRows rows, long batchSize, Tensor? hostOrder, Tensor? order) : IBatchReader
    {
        private long start;

        public bool TryNext(out Tensor features, out Tensor labels)
        {
            if (start >= rows.Count)
            {
                features = labels = null!;
                return false;
            }
            long size = Math.Min(batchSize, rows.Count - start);
            if (order is null)
            {
                features = rows.Features.narrow(0, start, size);
                labels = rows.Labels.narrow(0, start, size);
            }
            else
            {
                var index = order.narrow(0, start, size);
                features = rows.Features.index_select(0, index);
                labels = rows.Labels.index_select(0, index);
            }
            start += size;
            return true;
        }

        public void Dispose()
        {
            // .to() returns the same tensor when the rows are on the CPU; disposing twice is harmless.
            order?.Dispose();
            hostOrder?.Dispose();
        }
    }
}
