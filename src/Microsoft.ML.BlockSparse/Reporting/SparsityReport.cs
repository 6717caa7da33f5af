using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microsoft.ML.BlockSparse.Reporting;

/// <summary>
/// What a trained block-sparse network costs against the dense network of the same layer sizes:
/// per layer and in total, block shape, zero blocks, trainable parameters and FLOPs.
/// </summary>
public sealed class SparsityReport
{
    /// <summary>Creates a report from its layers.</summary>
    public SparsityReport(IReadOnlyList<LayerSparsity> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Layers = layers;
    }

    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<LayerSparsity> Layers { get; }

    /// <summary>Blocks over all factored layers.</summary>
    public long Blocks => Layers.Sum(l => l.Blocks);

    /// <summary>Zero blocks over all factored layers.</summary>
    public long ZeroBlocks => Layers.Sum(l => l.ZeroBlocks);

    /// <summary>Fraction of all blocks that are zero.</summary>
    public double BlockSparsity => Blocks == 0 ? 0 : (double)ZeroBlocks / Blocks;

    /// <summary>Trainable parameters of the whole network.</summary>
    public long TrainableParameters => Layers.Sum(l => l.TrainableParameters);

    /// <summary>Parameters of the dense network with the same layer sizes.</summary>
    public long DenseParameters => Layers.Sum(l => l.DenseParameters);

    /// <summary>
    /// The block shape each layer ended with (null for a plainly dense layer): for factored layers the
    /// candidate(s) λ2 left, joined by <c>+</c> if more than one survived.
    /// </summary>
    public IReadOnlyList<string?> ChosenBlockShapes => Layers.Select(l => l.BlockShape).ToList();

    /// <summary>Training FLOPs per example per epoch, for the network as it ended (retired candidates no longer cost anything).</summary>
    public long TrainingFlopsPerExample => Layers.Sum(l => l.TrainingFlopsPerExample);

    /// <summary>The dense network's training FLOPs per example per epoch.</summary>
    public long DenseTrainingFlopsPerExample => Layers.Sum(l => l.DenseTrainingFlopsPerExample);

    /// <summary>
    /// Training FLOPs of the whole run that produced the network: every epoch over every training row, each
    /// epoch at the cost of the candidates live during it, so a λ2 search's retired candidates count for the
    /// epochs they trained (<see cref="TrainingFlopsPerExample"/> counts only the network as it ended).
    /// Null for a report not made at the end of training.
    /// </summary>
    public long? RunTrainingFlops { get; init; }

    /// <summary>The dense network's training FLOPs for the same rows and epochs as <see cref="RunTrainingFlops"/>; null with it.</summary>
    public long? RunDenseTrainingFlops { get; init; }

    /// <summary>Inference FLOPs per example, zero blocks skipped.</summary>
    public long InferenceFlopsPerExample => Layers.Sum(l => l.InferenceFlopsPerExample);

    /// <summary>The dense network's inference FLOPs per example.</summary>
    public long DenseInferenceFlopsPerExample => Layers.Sum(l => l.DenseInferenceFlopsPerExample);

    /// <summary>A fixed-width table for a console, one row per layer and a total row.</summary>
    public string ToTable()
    {
        var rows = new List<string[]>
        {
            new[] { "layer", "in→out", "block", "rank", "zero blocks", "params", "dense params", "train FLOPs/ex", "dense", "infer FLOPs/ex", "dense" },
        };
        foreach (var l in Layers)
        {
            rows.Add(new[]
            {
                l.Label,
                $"{l.InFeatures}→{l.OutFeatures}",
                l.Factored ? l.BlockShape! : l.BlockShape is { } penalty ? $"dense ({penalty})" : "dense",
                l.Factored ? l.Rank.ToString(CultureInfo.InvariantCulture) : "-",
                l.Blocks > 0 ? $"{l.ZeroBlocks}/{l.Blocks} ({l.BlockSparsity:P1})" : "-",
                Count(l.TrainableParameters), Count(l.DenseParameters),
                Count(l.TrainingFlopsPerExample), Count(l.DenseTrainingFlopsPerExample),
                Count(l.InferenceFlopsPerExample), Count(l.DenseInferenceFlopsPerExample),
            });
        }
        rows.Add(new[]
        {
            "total", "", "", "",
            $"{ZeroBlocks}/{Blocks} ({BlockSparsity:P1})",
            $"{Count(TrainableParameters)} ({Ratio(TrainableParameters, DenseParameters)})", Count(DenseParameters),
            $"{Count(TrainingFlopsPerExample)} ({Ratio(TrainingFlopsPerExample, DenseTrainingFlopsPerExample)})", Count(DenseTrainingFlopsPerExample),
            $"{Count(InferenceFlopsPerExample)} ({Ratio(InferenceFlopsPerExample, DenseInferenceFlopsPerExample)})", Count(DenseInferenceFlopsPerExample),
        });

        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c <= 2 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        if (RunTrainingFlops is { } run && RunDenseTrainingFlops is { } denseRun)
            text.AppendLine($"whole run: {Count(run)} training FLOPs ({Ratio(run, denseRun)} of dense's {Count(denseRun)} for the same rows and epochs)");
        foreach (var l in Layers.Where(l => l.CandidateBlockShapes is not null))
            text.AppendLine($"layer {l.Label} block shape chosen by λ2 from {string.Join(", ", l.CandidateBlockShapes!)}: {l.BlockShape}");
        foreach (var l in Layers.Where(l => l.PlanNote is not null))
            text.AppendLine($"layer {l.Label}: {l.PlanNote}");
        foreach (var l in Layers.Where(l => !l.Factored))
            text.AppendLine($"layer {l.Label} is dense: {l.DenseReason}");
        return text.ToString();
    }

    /// <summary>
    /// The report as indented JSON (camelCase; totals first, then <c>layers</c>), with the caller's
    /// <paramref name="extra"/> keys (metrics, timings) added at the top level.
    /// </summary>
    public string ToJson(IReadOnlyDictionary<string, object?>? extra = null)
    {
        var fields = Fields();
        foreach (var (key, value) in extra ?? new Dictionary<string, object?>())
            fields[key] = value;
        return JsonSerializer.Serialize(fields, JsonOptions);
    }

    private Dictionary<string, object?> Fields() => new()
    {
        ["blockSparsity"] = BlockSparsity,
        ["zeroBlocks"] = ZeroBlocks,
        ["blocks"] = Blocks,
        ["chosenBlockShapes"] = ChosenBlockShapes,
        ["trainableParameters"] = TrainableParameters,
        ["denseParameters"] = DenseParameters,
        ["trainingFlopsPerExample"] = TrainingFlopsPerExample,
        ["denseTrainingFlopsPerExample"] = DenseTrainingFlopsPerExample,
        ["runTrainingFlops"] = RunTrainingFlops,
        ["runDenseTrainingFlops"] = RunDenseTrainingFlops,
        ["inferenceFlopsPerExample"] = InferenceFlopsPerExample,
        ["denseInferenceFlopsPerExample"] = DenseInferenceFlopsPerExample,
        ["layers"] = Layers,
    };

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static string Count(long value) => value switch
    {
        >= 10_000_000 => (value / 1e6).ToString("0.0M", CultureInfo.InvariantCulture),
        >= 10_000 => (value / 1e3).ToString("0.0k", CultureInfo.InvariantCulture),
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    private static string Ratio(long part, long whole)
        => whole == 0 ? "-" : ((double)part / whole).ToString("P1", CultureInfo.InvariantCulture);
}
