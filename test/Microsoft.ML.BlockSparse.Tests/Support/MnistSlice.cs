using Microsoft.ML.BlockSparse.Data;
using Samples;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// A small slice of the real MNIST fetched by build/setup.sh, read once for all tests that train.
/// </summary>
public sealed class MnistSlice
{
    public const int TrainRows = 10000;

    /// <summary>
    /// How far under the accuracy this code reaches a test's threshold sits: about 5 points (at least 4).
    /// Harmless changes move these small-slice runs by about a point: seeds 1 to 5 of
    /// TrainerPipelineTests' run reached 93.55, 92.15, 92.70, 92.30 and 92.40 % (a spread of 1.4), and
    /// reordering float operations moved full-MNIST accuracy by 0.14 points. So 5 points does not trip on
    /// them, while a model that stopped learning (10 % is chance) or learns far worse still fails. Each
    /// threshold's comment gives the accuracy it was set from (seed 1).
    /// </summary>
    public const double AccuracyMargin = 0.05;
    public const int TestRows = 2000;

    public MnistSlice()
    {
        Folder = DataLocation.DefaultMnistFolder;
        if (!Directory.Exists(Folder))
            throw new InvalidOperationException($"MNIST is not at {Folder}. Run build/setup.sh (the README's set-up) before the tests.");
        Train = IdxDataset.Load(Folder, train: true, TrainRows);
        Test = IdxDataset.Load(Folder, train: false, TestRows);
    }

    public string Folder { get; }
    public IReadOnlyList<IdxImage> Train { get; }
    public IReadOnlyList<IdxImage> Test { get; }

    /// <summary>The default options (so tests train what users get), fewer epochs for a small slice.</summary>
    public static BlockSparseTrainer.Options QuickOptions(int epochs = 10) => new()
    {
        FeatureColumnName = nameof(IdxImage.Pixels),
        Epochs = epochs,
        Seed = 1,
    };
}
