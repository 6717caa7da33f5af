using Microsoft.ML.BlockSparse.Batching;
using Microsoft.ML.BlockSparse.Checkpoints;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>
/// The training side of one Fit. Opened before the data is read, so a plan too large for memory or a bad
/// checkpoint fails before minutes go into reading; then it checks that a resumed run is the same run,
/// builds the planned network and trains it.
/// </summary>
internal sealed class TrainingEngine : IDisposable
{
    private readonly RunDescription run;
    private readonly NetworkPlan plan;
    private readonly Checkpoint? resume;
    private readonly CheckpointStore? checkpoints;
    private SortedDictionary<string, string>? fingerprint;

    private TrainingEngine(RunDescription run, NetworkPlan plan, Device device, Checkpoint? resume, CheckpointStore? checkpoints)
    {
        this.run = run;
        this.plan = plan;
        Device = device;
        this.resume = resume;
        this.checkpoints = checkpoints;
    }

    /// <summary>Where training runs.</summary>
    public Device Device { get; }

    /// <summary>Whether the rows must be hashed: a checkpoint records the data, and a resume must match it.</summary>
    public bool NeedsDataDigest => checkpoints is not null || resume is not null;

    /// <summary>Where the run continues from, for the log; null for a new run.</summary>
    public string? ResumeNote => resume is null ? null : $"resuming after epoch {resume.Info.CompletedEpochs} from {resume.Path}";

    /// <exception cref="InsufficientMemoryException">Training the plan on the CPU would need more memory than the process can use.</exception>
    public static TrainingEngine Open(RunDescription run, NetworkPlan plan)
    {
        var device = ComputeDeviceResolver.Resolve(run.Device);
        // Refused here, before the data is read, rather than by the OOM killer or a native abort later.
        // Host memory bounds a CPU run only: a GPU's memory is its own, and CUDA reports running out.
        if (device.type == DeviceType.CPU)
        {
            MemoryEstimate.Of(plan).Require(run.Training.BatchSize, run.EarlyStoppingPatience > 0,
                GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, run.MemoryRemedy);
        }
        var resume = CheckpointTarget.OpenResume(run);
        try
        {
            return new TrainingEngine(run, plan, device, resume, CheckpointTarget.For(run, resume));
        }
        catch
        {
            resume?.Dispose();
            throw;
        }
    }

    /// <summary>Records what decides this run and, when resuming, refuses a checkpoint another run wrote.</summary>
    public void Fingerprint(long trainingRows, long validationRows, string dataDigest, int featureLength, int classes, string? streaming = null)
    {
        fingerprint = RunFingerprint.Of(run, plan, trainingRows, validationRows, dataDigest, featureLength, classes, streaming);
        if (resume is not null)
            RunFingerprint.RequireMatch(resume.Info.Fingerprint, fingerprint, resume.Path!);
    }

    /// <summary>Builds the planned network on <see cref="Device"/> and trains it on <paramref name="train"/>.</summary>
    public TrainedNetwork Train(IRowBatches train, IRowBatches? validation, Action<EpochSummary> onEpoch)
    {
        if (run.TuneNativeAllocator && Device.type == DeviceType.CPU)
            NativeAllocator.Tune();
        // Adam's moments decay into denormals where gradients are zero, which stalls x86 CPUs (DenormalFlush).
        using var denormals = Device.type == DeviceType.CPU ? DenormalFlush.Begin() : null;
        var network = new BlockSparseNetwork(plan, run.Training.Seed);
        try
        {
            network.to(Device);
            if (run.InitialWeights is { } initial)
                network.InitializeFrom(initial);
            var control = new RunControl
            {
                Cancellation = run.Cancellation,
                Checkpoints = checkpoints,
                Resume = resume,
                Validation = validation,
                EarlyStoppingPatience = run.EarlyStoppingPatience,
                Fingerprint = fingerprint ?? throw new InvalidOperationException("Call Fingerprint before Train."),
            };
            var history = NetworkTrainer.Train(network, train, Device, run.Training, onEpoch, control);
            return new TrainedNetwork(network, history, EarlyStopping.KeptEpoch(history, run.EarlyStoppingPatience > 0));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    public void Dispose() => resume?.Dispose();
}
