using Microsoft.ML.BlockSparse.Checkpoints;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Training;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// A checkpoint that cannot be written (a full disk) leaves no temporary file, and the error says which
/// checkpoint failed, why, and which earlier one is intact to resume from.
/// </summary>
[Trait("Category", "Integration")]
public class CheckpointWriteFailureTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private BlockSparseModel Fit(BlockSparseTrainer.Options options)
    {
        var ml = new MLContext(1);
        var data = IdxDataset.ToDataView(ml, mnist.Train.Take(300).ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(data).LastTransformer;
    }

    private static BlockSparseTrainer.Options Options(string checkpoints, string? resumeFrom = null) => new()
    {
        FeatureColumnName = nameof(IdxImage.Pixels),
        HiddenLayers = [16],
        Epochs = 3,
        Seed = 3,
        Device = ComputeDevice.Cpu,
        CheckpointDirectory = checkpoints,
        ResumeFrom = resumeFrom,
    };

    [Fact]
    public void AFullDiskRemovesTheTemporaryFileAndNamesTheIntactCheckpoint()
    {
        var directory = temp.File("checkpoints");
        Directory.CreateDirectory(directory);
        // Linux's /dev/full fails every write with ENOSPC, as a full disk does: the epoch-2 checkpoint's
        // temporary file is a link to it.
        var temporary = Path.Combine(directory, "epoch-0002.bscheckpoint.tmp");
        File.CreateSymbolicLink(temporary, "/dev/full");
        var target = Path.Combine(directory, "epoch-0002.bscheckpoint");

        var e = Assert.Throws<IOException>(() => Fit(Options(directory)));

        Assert.StartsWith($"Could not write the checkpoint of epoch 2 to '{target}' (No space left on device", e.Message);
        Assert.Contains("); its temporary file was removed. The earlier checkpoint epoch-0001.bscheckpoint is intact: "
            + $"set ResumeFrom to '{Path.Combine(directory, "epoch-0001.bscheckpoint")}' to continue from it", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Equal(["epoch-0001.bscheckpoint"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName));
        using (var intact = CheckpointFile.Read(Path.Combine(directory, "epoch-0001.bscheckpoint")))
            Assert.Equal(1, intact.Info.CompletedEpochs);

        // Once there is space, the run continues from it.
        using var resumed = Fit(Options(directory, resumeFrom: Path.Combine(directory, "epoch-0001.bscheckpoint")));
        Assert.Equal(3, resumed.History.Count);
    }

    [Fact]
    public void ADamagedNewestCheckpointNamesTheOneBeforeIt()
    {
        var directory = temp.File("checkpoints");
        using (Fit(Options(directory)))
        {
        }
        var newest = Path.Combine(directory, "epoch-0003.bscheckpoint");
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(newest, bytes);

        var e = Assert.Throws<InvalidDataException>(() => Fit(Options(directory, resumeFrom: directory)));
        var before = Path.Combine(directory, "epoch-0002.bscheckpoint");
        Assert.Equal($"Checkpoint '{newest}' is corrupted: its SHA-256 checksum does not match its content. Resume from the checkpoint before it: "
            + $"set ResumeFrom to '{before}' (in the sample app: --resume-from {before} instead of --resume), or start a new run without ResumeFrom.", e.Message);
    }
}
