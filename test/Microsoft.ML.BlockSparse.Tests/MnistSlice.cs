using Microsoft.ML.BlockSparse.Data;
using Samples;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// A small slice of the real MNIST fetched by build/setup.sh, read once for all tests that train.
/// </summary>
public sealed class MnistSlice
{
    public const int TrainRows = 10000;
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
