using Microsoft.ML.BlockSparse;

namespace Samples.Bench;

/// <summary>
/// The bench's wide rows: an MLP with two hidden layers of 2048, dense against Kronecker, where the
/// factored layers are wide enough to pay (README, "When the method pays: scaling"). Its own architecture
/// label, so the table's ratios compare the two wide rows with each other, not with the 300-100 network.
/// </summary>
internal static class WideBench
{
    public const string Architecture = "Mlp 2048-2048";
    public static readonly int[] Hidden = [2048, 2048];

    /// <summary>
    /// The Kronecker configuration, chosen on a validation split (10 % of the training rows, test set not
    /// looked at; README, "When the method pays: scaling"): rank 2 and blocks with as many grid rows as
    /// block columns (balanced, the cheapest for a given rank: <c>r·(1/p + 1/n)</c> of the dense FLOPs), so
    /// both hidden layers train at about 6-10 % of their dense FLOPs; the output layer's shape is automatic.
    /// </summary>
    public const int Rank = 2;
    public const string Blocks = "32x28,32x64,auto";
    public const double LearningRate = 0.001;

    /// <summary>Epochs of both wide rows unless --epochs is given: enough for the dense network to converge on MNIST, and the dense row stays within minutes.</summary>
    public const int Epochs = 3;

    public static IEnumerable<BenchResult> Run(BenchCommand.BenchRunner bench)
    {
        yield return bench.Run("Dense 2048-2048", "dense-wide", o =>
        {
            o.Method = BlockSparseMethod.Dense;
            o.HiddenLayers = Hidden;
        }) with { Architecture = Architecture };
        yield return bench.Run($"Kronecker 2048-2048 {Blocks} r{Rank}", "kronecker-wide", o =>
        {
            o.HiddenLayers = Hidden;
            o.Rank = Rank;
            o.LayerBlockShapes = BenchCommand.ParseBlocks(Blocks);
            o.LearningRate = LearningRate;
        }) with { Architecture = Architecture };
    }
}
