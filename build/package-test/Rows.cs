// Shared by both package-test apps (copied into each): the scoring app must score exactly the rows the
// training app scored, so both take them from this one generator.
using Microsoft.ML.Data;

sealed class Row
{
    public string Label { get; set; } = "";
    [VectorType(Rows.Length)] public float[] Features { get; set; } = [];
}

static class Rows
{
    public const int Length = 16;
    private static readonly string[] Names = ["red", "green", "blue"];

    // Three classes, each a bump on its own third of the features, plus noise: separable, so a few epochs learn it.
    public static IEnumerable<Row> Make(int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            uint label = (uint)(i % 3);
            var features = new float[Length];
            for (int j = 0; j < Length; j++)
                features[j] = (float)(random.NextDouble() - 0.5) + (j * 3 / Length == label ? 2f : 0f);
            yield return new Row { Label = Names[label], Features = features };
        }
    }
}
