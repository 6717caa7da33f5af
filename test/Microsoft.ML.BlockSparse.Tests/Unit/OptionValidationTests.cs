using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Every public option is checked when the trainer is created, and the message names the option.</summary>
public class OptionValidationTests
{
    public static TheoryData<string, Spoil, string> BadOptions() => new()
    {
        { "LabelColumnName", new("o.LabelColumnName = ' '", o => o.LabelColumnName = " "), "must name a column" },
        { "FeatureColumnName", new("o.FeatureColumnName = ''", o => o.FeatureColumnName = ""), "must name a column" },
        { "HiddenLayers", new("o.HiddenLayers = null!", o => o.HiddenLayers = null!), "HiddenLayers" },
        { "HiddenLayers", new("o.HiddenLayers = [300, 0]", o => o.HiddenLayers = [300, 0]), "holds 0 at position 1; every hidden layer needs at least 1 unit" },
        { "Rank", new("o.Rank = 0", o => o.Rank = 0), "is 0; the Kronecker rank must be at least 1" },
        { "BlockShape", new("o.BlockShape = new BlockShape(0, 4)", o => o.BlockShape = new BlockShape(0, 4)), "both sides must be at least 1" },
        { "LayerBlockShapes", new("o.LayerBlockShapes = [new BlockShape(2, 2)]", o => o.LayerBlockShapes = [new BlockShape(2, 2)]), "has 1 shapes; it needs one per layer, 3" },
        { "Epochs", new("o.Epochs = 0", o => o.Epochs = 0), "is 0; train for at least 1 epoch" },
        { "Epochs", new("o.Epochs = -3", o => o.Epochs = -3), "is -3; train for at least 1 epoch" },
        { "BatchSize", new("o.BatchSize = 0", o => o.BatchSize = 0), "is 0; a batch needs at least 1 row" },
        { "LearningRate", new("o.LearningRate = 0", o => o.LearningRate = 0), "is 0; it must be a positive number" },
        { "LearningRate", new("o.LearningRate = -0.1", o => o.LearningRate = -0.1), "is -0.1; it must be a positive number" },
        { "LearningRate", new("o.LearningRate = double.NaN", o => o.LearningRate = double.NaN), "is NaN; it must be a positive number" },
        { "LearningRateSchedule", new("o.LearningRateSchedule = (LearningRateSchedule)9", o => o.LearningRateSchedule = (LearningRateSchedule)9), "is 9; expected Constant or Cosine" },
        { "L1Start", new("o.L1Start = -0.001", o => o.L1Start = -0.001), "is -0.001; λ1 must be 0 or more" },
        { "L1Increment", new("o.L1Increment = double.PositiveInfinity", o => o.L1Increment = double.PositiveInfinity), "it must be 0 or more" },
        { "L1EveryEpochs", new("o.L1EveryEpochs = 0", o => o.L1EveryEpochs = 0), "is 0; it must be at least 1" },
        { "PruneEveryEpochs", new("o.PruneEveryEpochs = -1", o => o.PruneEveryEpochs = -1), "is -1; use 0 to turn hard pruning off" },
        { "PruneThreshold", new("o.PruneThreshold = -1", o => o.PruneThreshold = -1), "is -1; it must be 0 or more" },
        { "Device", new("o.Device = (ComputeDevice)7", o => o.Device = (ComputeDevice)7), "is 7; expected Auto, Cpu or Cuda" },
        { "CheckpointDirectory", new("o.CheckpointDirectory = ' '", o => o.CheckpointDirectory = " "), "is empty; give a directory" },
        { "ResumeFrom", new("o.ResumeFrom = ''", o => o.ResumeFrom = ""), "is empty; give a checkpoint file or directory" },
        { "ValidationFraction", new("o.ValidationFraction = 1", o => o.ValidationFraction = 1), "is 1; it must be at least 0 and below 1" },
        { "ValidationFraction", new("o.ValidationFraction = -0.2", o => o.ValidationFraction = -0.2), "is -0.2; it must be at least 0 and below 1" },
        { "ValidationFraction", new("o.ValidationFraction = double.NaN", o => o.ValidationFraction = double.NaN), "is NaN; it must be at least 0 and below 1" },
        { "ValidationFraction", new("{ o.ValidationFraction = 0.1; o.ValidationSet = new MLContext().Data.LoadFromEnumerable(new[] { new { A = 1f } }); }", o => { o.ValidationFraction = 0.1; o.ValidationSet = new MLContext().Data.LoadFromEnumerable(new[] { new { A = 1f } }); }), "and ValidationSet is set too; use one of them" },
        { "EarlyStoppingPatience", new("o.EarlyStoppingPatience = -1", o => o.EarlyStoppingPatience = -1), "is -1; use 0 to turn early stopping off" },
        { "EarlyStoppingPatience", new("o.EarlyStoppingPatience = 3", o => o.EarlyStoppingPatience = 3), "is 3, but there is nothing to validate on; set ValidationFraction or ValidationSet too" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptionIsRejectedAtCreationNamingIt(string option, Spoil spoil, string problem)
    {
        var options = new BlockSparseTrainer.Options();
        spoil.Apply(options);
        var e = Assert.ThrowsAny<ArgumentException>(() => new MLContext().MulticlassClassification.Trainers.BlockSparse(options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void CheckpointDirectoryThatIsAFileIsRejected()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("notes.txt"), "mine");
        var options = new BlockSparseTrainer.Options { CheckpointDirectory = temp.File("notes.txt") };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().MulticlassClassification.Trainers.BlockSparse(options));
        Assert.Contains($"CheckpointDirectory is '{temp.File("notes.txt")}', which is a file", e.Message);
    }

    /// <summary>One bad setting, shown by its code in the test's name.</summary>
    public sealed record Spoil(string Code, Action<BlockSparseTrainer.Options> Apply)
    {
        public override string ToString() => Code;
    }

    [Fact]
    public void DefaultsAreValidAndAreTheDocumentedOnes()
    {
        var options = new BlockSparseTrainer.Options();
        Assert.Null(Record.Exception(() => new MLContext().MulticlassClassification.Trainers.BlockSparse(options)));
        // Each option with a documented default starts at it (the XML docs and the README quote these constants).
        var defaults = typeof(BlockSparseTrainer).GetNestedType("Defaults", System.Reflection.BindingFlags.NonPublic)!
            .GetFields().Where(f => f.IsLiteral).ToList();
        Assert.True(defaults.Count >= 15, $"found only {defaults.Count} documented defaults");
        foreach (var field in defaults)
        {
            var option = typeof(BlockSparseTrainer.Options).GetProperty(field.Name);
            Assert.True(option is not null, $"Defaults.{field.Name} names no option");
            Assert.Equal(field.GetRawConstantValue(), option!.GetValue(options));
        }
    }
}
