using Microsoft.ML.BlockSparse.Checkpoints;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Checkpoints after every epoch, resume, cancellation, and what happens to damaged or foreign checkpoints.</summary>
[Trait("Category", "Integration")]
public class CheckpointTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    // Small and quick, but with every piece of state in play: pruning (gate masks) at epochs 2 and 4, a λ1
    // step at epoch 3, the cosine schedule, and validation with early stopping (best weights).
    private static BlockSparseTrainer.Options Options(string? checkpoints = null, string? resumeFrom = null) => new()
    {
        FeatureColumnName = nameof(IdxImage.Pixels),
        HiddenLayers = [32],
        Epochs = 4,
        Seed = 3,
        Device = ComputeDevice.Cpu,
        PruneEveryEpochs = 2,
        L1EveryEpochs = 2,
        L1Start = 0.003,
        ValidationFraction = 0.2,
        EarlyStoppingPatience = 3,
        CheckpointDirectory = checkpoints,
        ResumeFrom = resumeFrom,
    };

    private BlockSparseModel Fit(BlockSparseTrainer.Options options, int rows = 1000)
    {
        var ml = new MLContext(1);
        var data = IdxDataset.ToDataView(ml, mnist.Train.Take(rows).ToList());
        return ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(data).LastTransformer;
    }

    /// <summary>Same type, shape and bytes: bit-identical, not merely close.</summary>
    private static bool Identical(Tensor a, Tensor b)
        => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    private static byte[] Onnx(BlockSparseModel model)
    {
        using var stream = new MemoryStream();
        model.SaveOnnx(stream);
        return stream.ToArray();
    }

    [Fact]
    public void ResumeAcrossARetirementOfCandidateBlockShapesIsExact()
    {
        // λ2 retires candidates between epochs: the resumed run must know which are gone (a buffer) and
        // end exactly where the uninterrupted one does.
        BlockSparseTrainer.Options Search(string checkpoints, string? resumeFrom = null)
        {
            var o = Options(checkpoints, resumeFrom);
            o.CandidateBlockShapes = [[new BlockShape(4, 28), new BlockShape(8, 56), new BlockShape(2, 14)], [new BlockShape(2, 8)]];
            o.ShapeSearchLambdaStart = 0.3;
            o.ShapeSearchDecisionEpochs = 2;   // decide at the end of epoch 2, just before the interruption
            return o;
        }
        using var uninterrupted = Fit(Search(temp.File("whole-search")));
        // The first layer held several candidates in epoch 1 and one from the decision at the end of epoch 2 on.
        string Shapes() => string.Join(" / ", uninterrupted.History.Select(e => string.Join(" | ", e.BlockShapes!)));
        Assert.True(uninterrupted.History[0].BlockShapes![0]!.Contains('+'), Shapes());
        Assert.DoesNotContain('+', uninterrupted.History[1].BlockShapes![0]!);

        var split = temp.File("split-search");
        using var cancellation = new CancellationTokenSource();
        var interrupted = Search(split);
        interrupted.CancellationToken = cancellation.Token;
        interrupted.Progress = new OnEpoch(e => { if (e.Epoch == 2) cancellation.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(interrupted));
        using var resumed = Fit(Search(split, resumeFrom: split));

        Assert.Equal(Onnx(uninterrupted), Onnx(resumed));
        Assert.Equal(uninterrupted.Report.ChosenBlockShapes, resumed.Report.ChosenBlockShapes);
    }

    [Fact]
    public void ResumedRunEndsWithExactlyTheWeightsOfAnUninterruptedRun()
    {
        var whole = temp.File("whole");
        var split = temp.File("split");
        using var uninterrupted = Fit(Options(whole));

        using var cancellation = new CancellationTokenSource();
        var interrupted = Options(split);
        interrupted.CancellationToken = cancellation.Token;
        interrupted.Progress = new OnEpoch(e => { if (e.Epoch == 2) cancellation.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(interrupted));
        // Cancelled at the first batch of epoch 3: the checkpoints of epochs 1 and 2 stay, nothing later.
        Assert.Equal(["epoch-0001.bscheckpoint", "epoch-0002.bscheckpoint"], Directory.GetFiles(split).Select(Path.GetFileName).Order());

        var reported = new List<EpochSummary>();
        var resume = Options(split + Path.DirectorySeparatorChar, resumeFrom: split);
        resume.Progress = new OnEpoch(reported.Add);
        using var resumed = Fit(resume);

        Assert.Equal([3, 4], reported.Select(e => e.Epoch));
        // Every parameter, buffer, optimiser moment, generator state and best-epoch snapshot is bit-identical.
        using (var expected = CheckpointFile.Read(Path.Combine(whole, "epoch-0004.bscheckpoint")))
        using (var actual = CheckpointFile.Read(Path.Combine(split, "epoch-0004.bscheckpoint")))
        {
            Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
            Assert.Contains(expected.Tensors.Keys, k => k.EndsWith("gateMask", StringComparison.Ordinal));
            Assert.Contains(expected.Tensors.Keys, k => k.StartsWith("best/", StringComparison.Ordinal));
            foreach (var (name, tensor) in expected.Tensors)
                Assert.True(Identical(tensor, actual.Tensors[name]), $"{name} differs after the resume");
            Assert.Equal(expected.Info.GlobalStep, actual.Info.GlobalStep);
            Assert.Equal(expected.Info.OptimizerSteps, actual.Info.OptimizerSteps);
        }
        Assert.Equal(Onnx(uninterrupted), Onnx(resumed));
        Assert.Equal(uninterrupted.KeptEpoch, resumed.KeptEpoch);
        Assert.Equal(uninterrupted.History.Select(e => (e.Loss, e.TrainAccuracy, e.ValidationAccuracy, e.BlockSparsity)),
            resumed.History.Select(e => (e.Loss, e.TrainAccuracy, e.ValidationAccuracy, e.BlockSparsity)));
        Assert.True(uninterrupted.Report.ZeroBlocks > 0, "no block was pruned, so the gate masks were not put to the test");

        // Writing checkpoints does not change training.
        using var unwatched = Fit(Options());
        Assert.Equal(Onnx(uninterrupted), Onnx(unwatched));
    }

    [Fact]
    public void KeepsTheLastTwoCheckpointsWrittenAtomically()
    {
        var directory = temp.File("checkpoints");
        var options = Options(directory);
        var seen = new List<string[]>();
        options.Progress = new OnEpoch(_ => seen.Add(Directory.GetFiles(directory).Select(Path.GetFileName).Order().ToArray()!));
        using var model = Fit(options);

        Assert.Equal(["epoch-0001.bscheckpoint"], seen[0]);
        Assert.Equal(["epoch-0003.bscheckpoint", "epoch-0004.bscheckpoint"], seen[3]);  // no temporary file left behind
        using var last = CheckpointFile.Read(Path.Combine(directory, "epoch-0004.bscheckpoint"));
        Assert.Equal(4, last.Info.CompletedEpochs);
        Assert.Equal(4, last.Info.History.Count);
    }

    [Fact]
    public void CheckpointRoundTripsEveryParameterAndBufferByName()
    {
        var plan = LayerPlan.ForMlp(24, [8], 4, 2, new BlockShape(2, 3), null);
        using var source = new BlockSparseNetwork(plan, seed: 1);
        source.FactoredLayers.First().Single.PruneGatesBelow(2.0);  // every gate (1.0) removed: the mask buffer is all zeros
        var path = temp.File("one.bscheckpoint");
        using (var written = new Checkpoint(new CheckpointInfo { CompletedEpochs = 7 }, ModuleState.Copy(source)))
            CheckpointFile.Write(path, written);

        using var target = new BlockSparseNetwork(plan, seed: 2);
        using var read = CheckpointFile.Read(path);
        ModuleState.Restore(target, read.Tensors, "test");
        var expected = ModuleState.Entries(source).ToList();
        var actual = ModuleState.Entries(target).ToDictionary(e => e.Name, e => e.Value);
        Assert.Contains(expected, e => e.Name.EndsWith("gateMask", StringComparison.Ordinal));
        foreach (var (name, value) in expected)
            Assert.True(Identical(value, actual[name]), $"{name} did not round-trip");
        Assert.Equal(0, target.FactoredLayers.First().GateMask.sum().item<float>());
        Assert.Equal(7, read.Info.CompletedEpochs);

        // A state of another shape is refused with every difference named, not a crash in copy_.
        using var other = new BlockSparseNetwork(LayerPlan.ForMlp(24, [12], 4, 2, new BlockShape(2, 3), null), seed: 1);
        var e = Assert.Throws<InvalidDataException>(() => ModuleState.Restore(other, read.Tensors, "Checkpoint 'x'"));
        Assert.StartsWith("Checkpoint 'x' does not fit this network: ", e.Message);
        Assert.Contains("'layers.0.candidates.0.gate' is Float32 [4, 8] there and Float32 [6, 8] here", e.Message);
    }

    [Fact]
    public void DamagedOrForeignCheckpointIsRejectedNamingTheFile()
    {
        var directory = temp.File("checkpoints");
        using (Fit(Options(directory)))
        {
        }
        var good = Path.Combine(directory, "epoch-0004.bscheckpoint");
        var bytes = File.ReadAllBytes(good);

        var truncated = temp.File("truncated.bscheckpoint");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var flipped = temp.File("flipped.bscheckpoint");
        var damaged = (byte[])bytes.Clone();
        damaged[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(flipped, damaged);
        var foreign = temp.File("foreign.bscheckpoint");
        File.WriteAllText(foreign, "epoch,loss\n1,0.5\n");

        Assert.Contains($"Checkpoint '{truncated}' is truncated: it has {bytes.Length / 2} bytes, its header promises {bytes.Length}",
            Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(truncated)).Message);
        Assert.Contains($"Checkpoint '{flipped}' is corrupted: its SHA-256 checksum does not match",
            Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(flipped)).Message);
        Assert.Contains($"Checkpoint '{foreign}' is not a BlockSparse checkpoint",
            Assert.Throws<InvalidDataException>(() => CheckpointFile.Read(foreign)).Message);

        // Through the trainer: refused before any data is read or any weight is touched.
        var e = Assert.Throws<InvalidDataException>(() => Fit(Options(resumeFrom: truncated)));
        Assert.Contains($"'{truncated}' is truncated", e.Message);
        Assert.Contains("Resume from another checkpoint (the directory keeps the last two)", e.Message);
    }

    [Fact]
    public void ResumeWithOtherOptionsOrDataNamesWhatDiffers()
    {
        var directory = temp.File("checkpoints");
        var options = Options(directory);
        options.Epochs = 2;
        using (Fit(options))
        {
        }

        var otherOptions = Options(resumeFrom: directory);
        otherOptions.Epochs = 3;
        otherOptions.LearningRate = 0.01;
        var e = Assert.Throws<InvalidOperationException>(() => Fit(otherOptions));
        Assert.Contains("was written by a different run", e.Message);
        Assert.Contains("Options.Epochs is 2 in the checkpoint and 3 now", e.Message);
        Assert.Contains("Options.LearningRate is 0.003 in the checkpoint and 0.01 now", e.Message);

        var sameOptions = Options(resumeFrom: directory);
        sameOptions.Epochs = 2;
        var otherData = Assert.Throws<InvalidOperationException>(() => Fit(sameOptions, rows: 900));
        Assert.Contains("training rows is 800 in the checkpoint and 720 now", otherData.Message);
        Assert.Contains("the training data differs", otherData.Message);

        var shape = Options(resumeFrom: directory);
        shape.Epochs = 2;
        shape.HiddenLayers = [16];
        Assert.Contains("Options.HiddenLayers is 32 in the checkpoint and 16 now", Assert.Throws<InvalidOperationException>(() => Fit(shape)).Message);
    }

    [Fact]
    public void DirectoryHoldingAnotherRunsCheckpointsIsNotOverwritten()
    {
        var directory = temp.File("checkpoints");
        var first = Options(directory);
        first.Epochs = 1;
        using (Fit(first))
        {
        }
        var before = File.ReadAllBytes(Path.Combine(directory, "epoch-0001.bscheckpoint"));

        var second = Options(directory);
        second.Epochs = 1;
        second.Seed = 4;
        var e = Assert.Throws<InvalidOperationException>(() => Fit(second));
        Assert.Contains("already holds checkpoints (epoch-0001.bscheckpoint) of another run", e.Message);
        Assert.Contains("Set ResumeFrom to that directory", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(directory, "epoch-0001.bscheckpoint")));

        var missing = Options(resumeFrom: temp.File("nowhere"));
        Assert.Contains("ResumeFrom is '" + temp.File("nowhere") + "', which is neither a checkpoint file nor a directory",
            Assert.Throws<FileNotFoundException>(() => Fit(missing)).Message);
        Directory.CreateDirectory(temp.File("empty"));
        Assert.Contains("which holds no checkpoint", Assert.Throws<FileNotFoundException>(() => Fit(Options(resumeFrom: temp.File("empty")))).Message);
    }

    [Fact]
    public void CancellationBeforeTheFirstBatchThrowsAndWritesNothing()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var options = Options(temp.File("checkpoints"));
        options.CancellationToken = cancelled.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(options));
        Assert.False(Directory.Exists(temp.File("checkpoints")) && Directory.EnumerateFileSystemEntries(temp.File("checkpoints")).Any());
    }
}
