using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// The arg-max of <c>Score</c> as a 0-based class index, the one step of scoring that ONNX cannot
/// hand to ML.NET (OnnxTransformer only produces vector columns, and <c>PredictedLabel</c> is a scalar).
/// </summary>
/// <remarks>
/// ML.NET finds this mapping by its contract name when it loads a saved model. When this assembly ships with
/// the application (a reference to the BlockSparse.MLNet.Scoring package), plain <c>mlContext.Model.Load</c>
/// finds it without <c>mlContext.ComponentCatalog.RegisterAssembly</c> (build/package-test.sh loads a zip in a
/// fresh app that never calls it); registering it, as <see cref="BlockSparseModelFile.Load"/> does, is harmless.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ArgMaxMapping : CustomMappingFactory<ArgMaxMapping.ScoreRow, ArgMaxMapping.ClassIndexRow>
{
    /// <summary>The name under which saved models refer to this mapping.</summary>
    public const string ContractName = "Microsoft.ML.BlockSparse.ArgMax";

    /// <summary>The intermediate column that holds the class index, dropped after key mapping.</summary>
    public const string ClassIndexColumnName = "BlockSparse.ClassIndex";

    /// <summary>Input row: the class probabilities.</summary>
    public sealed class ScoreRow
    {
        /// <summary>One probability per class.</summary>
        [VectorType]
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    /// <summary>Output row: the index of the largest score.</summary>
    public sealed class ClassIndexRow
    {
        /// <summary>0-based index of the class with the highest score (the first on ties).</summary>
        [ColumnName(ClassIndexColumnName)]
        public uint ClassIndex { get; set; }
    }

    /// <summary>Writes the arg-max of <paramref name="input"/>'s score into <paramref name="output"/>.</summary>
    public static void Map(ScoreRow input, ClassIndexRow output)
    {
        var scores = input.Score;
        uint best = 0;
        for (int i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
                best = (uint)i;
        }
        output.ClassIndex = best;
    }

    /// <inheritdoc />
    public override Action<ScoreRow, ClassIndexRow> GetMapping() => Map;
}
