using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;

namespace Samples.Bench;

/// <summary>How fast a saved model zip scores, loaded the way an application loads it.</summary>
internal static class InferenceThroughput
{
    /// <summary>Predictions one at a time through the engine (after one warm-up row).</summary>
    public const int EngineRows = 2000;

    public static (double TransformRowsPerSecond, double EngineRowsPerSecond) Measure(MLContext mlContext, string modelPath, IReadOnlyList<IdxImage> rows)
    {
        var model = mlContext.Model.Load(modelPath, out _);
        var data = IdxDataset.ToDataView(mlContext, rows);

        var clock = Stopwatch.StartNew();
        var scored = model.Transform(data);
        long count = 0;
        using (var cursor = scored.GetRowCursor([scored.Schema["Score"]]))
        {
            var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
            VBuffer<float> score = default;
            while (cursor.MoveNext())
            {
                getScore(ref score);
                count++;
            }
        }
        double transformRate = count / clock.Elapsed.TotalSeconds;

        using var engine = mlContext.Model.CreatePredictionEngine<IdxImage, ScoreOnly>(model, inputSchemaDefinition: IdxDataset.Schema(rows[0].Pixels.Length));
        engine.Predict(rows[0]);
        int engineRows = Math.Min(EngineRows, rows.Count);
        clock.Restart();
        for (int i = 0; i < engineRows; i++)
            engine.Predict(rows[i]);
        double engineRate = engineRows / clock.Elapsed.TotalSeconds;
        (model as IDisposable)?.Dispose();
        return (transformRate, engineRate);
    }

    private sealed class ScoreOnly
    {
        [VectorType]
        public float[] Score { get; set; } = [];
    }
}
