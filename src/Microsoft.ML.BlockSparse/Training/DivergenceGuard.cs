using System.Globalization;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// Stops training at the first non-finite loss, naming the epoch and batch, instead of returning a
/// model full of NaN.
/// </summary>
/// <remarks>
/// Reading a loss value forces a GPU to finish all queued work, which would stall every CUDA step.
/// So on a GPU the index of the first bad batch is recorded on the device (no read) and checked once
/// at the end of the epoch, together with the epoch's loss sum that is read there anyway. On the CPU
/// the read costs nothing, and the guard stops at the bad batch itself. After every epoch the weights
/// are checked too: a last step can make them non-finite with no later loss to show it.
/// </remarks>
internal sealed class DivergenceGuard : IDisposable
{
    private readonly double learningRate;
    private readonly string learningRateName;
    private readonly long batchesPerEpoch;
    private readonly Tensor? firstBadBatch;  // deferred checks only: 0-based batch index, -1 while all are finite

    /// <param name="device">The training device.</param>
    /// <param name="learningRate">For the message.</param>
    /// <param name="batchesPerEpoch">For the message.</param>
    /// <param name="checkEveryBatch">Read every loss at once; by default only on the CPU, where reading costs nothing.</param>
    /// <param name="learningRateName">What the message tells the user to lower (the caller knows the option's name).</param>
    public DivergenceGuard(Device device, double learningRate, long batchesPerEpoch, bool? checkEveryBatch = null, string learningRateName = "the learning rate")
    {
        this.learningRate = learningRate;
        this.learningRateName = learningRateName;
        this.batchesPerEpoch = batchesPerEpoch;
        if (!(checkEveryBatch ?? device.type == DeviceType.CPU))
            firstBadBatch = full(1, Scalars.MinusOne, dtype: ScalarType.Int64, device: device);
    }

    /// <summary>Call once per batch with that batch's loss; <paramref name="epoch"/> and <paramref name="batch"/> are 0-based.</summary>
    public void Observe(Tensor loss, int epoch, long batch)
    {
        if (firstBadBatch is null)
        {
            double value = loss.detach().to_type(ScalarType.Float64).item<double>();
            if (!double.IsFinite(value))
                throw Diverged(epoch, batch, $"the loss became {value.ToString(CultureInfo.InvariantCulture)}");
            return;
        }
        using var _ = no_grad();
        using var bad = loss.detach().isfinite().logical_not().logical_and(firstBadBatch.lt(Scalars.Zero));
        using var batchIndex = Scalars.Of(batch);
        firstBadBatch.masked_fill_(bad, batchIndex);
    }

    /// <summary>Call at the end of an epoch, before anything of it is kept (checkpoint, best weights).</summary>
    public void CheckEpoch(nn.Module network, int epoch)
    {
        if (firstBadBatch is not null)
        {
            long batch = firstBadBatch.item<long>();
            if (batch >= 0)
                throw Diverged(epoch, batch, "the loss became NaN or infinite");
        }
        using var _ = no_grad();
        foreach (var (name, value) in ModuleState.Entries(network))
        {
            using var scope = NewDisposeScope();
            if (value.is_floating_point() && !value.isfinite().all().item<bool>())
                throw Diverged(epoch, null, $"'{name}' became NaN or infinite after the epoch's last step");
        }
    }

    private TrainingDivergedException Diverged(int epoch, long? batch, string what)
    {
        var where = batch is { } b ? $"epoch {epoch + 1}, batch {b + 1} of {batchesPerEpoch}" : $"epoch {epoch + 1}";
        var lower = (learningRate / 10).ToString("G3", CultureInfo.InvariantCulture);
        return new TrainingDivergedException(
            $"Training diverged in {where}: {what}, so the weights are no longer usable and no model was produced. "
            + $"Lower {learningRateName} (it is {learningRate.ToString("G3", CultureInfo.InvariantCulture)}; try {lower}), "
            + "and check that the features are on a small common scale (for example with NormalizeMinMax or NormalizeMeanVariance). "
            + "A larger BatchSize also makes the steps steadier. Checkpoints of earlier epochs, if any, are kept.",
            epoch + 1, batch + 1);
    }

    public void Dispose() => firstBadBatch?.Dispose();
}
