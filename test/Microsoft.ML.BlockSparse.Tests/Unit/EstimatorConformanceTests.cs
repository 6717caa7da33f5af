using System.Text.RegularExpressions;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// ML.NET's contract for an estimator and the transformer it fits, as ML.NET's own test framework checks it
/// for every built-in estimator (<c>TestEstimatorCore</c> in dotnet/machinelearning's TestDataPipeBase): the
/// schema promised before fitting is the schema delivered after, invalid input is refused before and after
/// fitting, a saved and reloaded model behaves identically, and the row-to-row mapper agrees with
/// <c>Transform</c>. Checked for the trainer alone and for MapValueToKey → BlockSparse → MapKeyToValue, on
/// 30 in-memory rows and one epoch.
/// </summary>
public class EstimatorConformanceTests : IDisposable
{
    private readonly MLContext ml = new(1);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private BlockSparseTrainer Trainer() => ml.MulticlassClassification.Trainers.BlockSparse(
        new BlockSparseTrainer.Options { HiddenLayers = [4], Epochs = 1, Device = ComputeDevice.Cpu });

    private IEstimator<ITransformer> Pipeline() => ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(Trainer())
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    /// <summary>TinyClassifier's rows: Label (text), Features (4 floats).</summary>
    private IDataView Raw() => TinyClassifier.Data(ml);

    /// <summary>The rows with Label mapped to a key, as the trainer alone needs them.</summary>
    private IDataView Keyed()
    {
        var raw = Raw();
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
    }

    // ---- (a) the estimator's promise is what the fitted transformer delivers ----

    [Fact]
    public void TrainerPromisesTheColumnsItsModelDelivers()
    {
        var data = Keyed();
        var promised = Trainer().GetOutputSchema(ShapeOf(data.Schema));
        using var model = Trainer().Fit(data);
        var delivered = ShapeOf(model.GetOutputSchema(data.Schema));

        AssertSameShape(promised, delivered);
        // The two columns every ML.NET multiclass trainer adds (so the comparison above is not of two input shapes).
        AssertColumn(delivered, "Score", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false);
        AssertColumn(delivered, "PredictedLabel", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, isKey: true);
    }

    [Fact]
    public void PipelinePromisesTheColumnsItsModelDelivers()
    {
        var data = Raw();
        var promised = Pipeline().GetOutputSchema(ShapeOf(data.Schema));
        var model = Pipeline().Fit(data);
        var delivered = ShapeOf(model.GetOutputSchema(data.Schema));

        AssertSameShape(promised, delivered);
        AssertColumn(delivered, "Score", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false);
        // MapKeyToValue turned the key back into the label's text.
        AssertColumn(delivered, "PredictedLabel", SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false);
    }

    // ---- (b) GetOutputSchema refuses what Fit refuses, with the same exception ----

    public static TheoryData<string> InvalidInputs => new()
    {
        "no feature column", "features of double", "features of variable size", "no label column", "label of text", "label of float",
    };

    [Theory]
    [MemberData(nameof(InvalidInputs))]
    public void GetOutputSchemaRefusesWhatFitRefusesWithTheSameMessage(string problem)
    {
        var data = Invalid(problem);
        var atFit = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer().Fit(data));
        var atShape = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer().GetOutputSchema(ShapeOf(data.Schema)));

        Assert.Equal(atFit.ParamName, atShape.ParamName);
        // A SchemaShape knows a vector is of known size, not its size: "Vector<Double, 4>" at Fit reads
        // "Vector<Double>" before it. Everything else in the two messages must be the same.
        Assert.Equal(WithoutVectorSize(atFit.Message), WithoutVectorSize(atShape.Message));
        // ...and the message names the column and what to do.
        var column = problem.Contains("label") ? "'Label'" : "'Features'";
        Assert.Contains(column, atFit.Message);
        Assert.Matches("MapValueToKey|Concatenate|Columns present", atFit.Message);
    }

    [Fact]
    public void PipelineRefusesAMissingFeatureColumnBeforeAndAtFit()
    {
        var data = ml.Transforms.DropColumns("Features").Fit(Raw()).Transform(Raw());
        var atFit = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline().Fit(data));
        var atShape = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline().GetOutputSchema(ShapeOf(data.Schema)));

        Assert.Equal(atFit.Message, atShape.Message);
        Assert.Contains("The feature column 'Features' is not in the input", atFit.Message);
    }

    [Fact]
    public void FittedAndReloadedModelsRefuseFeaturesTheyCannotScore()
    {
        var model = Pipeline().Fit(Raw());
        var loaded = SaveAndLoad(model, Raw().Schema, out _);
        var noFeatures = ml.Transforms.DropColumns("Features").Fit(Raw()).Transform(Raw());
        var wider = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 3).Select(_ => new WideRow { Label = "a" }));

        // TestEstimatorCore's mustFail: ArgumentOutOfRangeException or InvalidOperationException, from
        // GetOutputSchema and from Transform, on the fitted and on the reloaded transformer. (The reloaded
        // chain is ML.NET's own transformers: ONNX Runtime's input check refuses the wider rows.)
        foreach (var transformer in new[] { model, loaded })
        {
            foreach (var invalid in new[] { noFeatures, wider })
            {
                AssertRefused(() => transformer.GetOutputSchema(invalid.Schema));
                AssertRefused(() => transformer.Transform(invalid));
            }
        }
    }

    [Fact]
    public void GetOutputSchemaRefusesAKeyLabelOfAnotherItemTypeAsFitDoes()
    {
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new ByteKeyRow { Label = (byte)(i % 3 + 1), Features = [i, 1, 0, 1] }));
        var atFit = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer().Fit(data));
        var atShape = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer().GetOutputSchema(ShapeOf(data.Schema)));
        Assert.Equal(atFit.Message, atShape.Message);
    }

    [Fact]
    public void ScoreIsNotPromisedAnnotationsItDoesNotHave()
    {
        var rows = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 30).Select(i => new TwoColumnRow { Label = ((char)('a' + i % 3)).ToString(), A = i % 3, B = i }));
        var pipeline = ml.Transforms.Concatenate("Features", "A", "B")
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .Append(Pipeline());
        var promised = pipeline.GetOutputSchema(ShapeOf(rows.Schema));
        var delivered = ShapeOf(pipeline.Fit(rows).GetOutputSchema(rows.Schema));

        AssertSameShape(promised, delivered);
        Assert.Equal(Describe(Assert.Single(delivered, c => c.Name == "Score").Annotations),
            Describe(Assert.Single(promised, c => c.Name == "Score").Annotations));
    }

    // ---- (c) GetOutputSchema(schema) is the schema Transform produces ----

    [Fact]
    public void TransformerOutputSchemaIsTheSchemaOfTransform()
    {
        var keyed = Keyed();
        using var model = Trainer().Fit(keyed);
        AssertSameSchema(model.GetOutputSchema(keyed.Schema), model.Transform(keyed).Schema);

        var raw = Raw();
        var chain = Pipeline().Fit(raw);
        AssertSameSchema(chain.GetOutputSchema(raw.Schema), chain.Transform(raw).Schema);
    }

    // ---- (d) save and load: same schema, bit-identical scores ----

    [Fact]
    public void TrainerModelSavedAndLoadedHasTheSameSchemaAndBitIdenticalScores()
    {
        var data = Keyed();
        using var model = Trainer().Fit(data);
        var loaded = SaveAndLoad(model, data.Schema, out var loadedInput);

        AssertSameSchema(data.Schema, loadedInput);
        AssertSameSchema(model.GetOutputSchema(data.Schema), loaded.GetOutputSchema(data.Schema));
        var original = model.Transform(data);
        var reloaded = loaded.Transform(data);
        AssertSameSchema(original.Schema, reloaded.Schema);
        AssertBitIdentical(Scores(original), Scores(reloaded));
        Assert.Equal(original.GetColumn<uint>("PredictedLabel"), reloaded.GetColumn<uint>("PredictedLabel"));
    }

    [Fact]
    public void PipelineSavedToAFileAndLoadedHasTheSameSchemaAndBitIdenticalScores()
    {
        var data = Raw();
        var model = Pipeline().Fit(data);
        var path = temp.File("pipeline.zip");
        ml.Model.Save(model, data.Schema, path);
        var fresh = new MLContext(7);
        fresh.ComponentCatalog.RegisterAssembly(typeof(ArgMaxMapping).Assembly);
        var loaded = fresh.Model.Load(path, out var loadedInput);

        AssertSameSchema(data.Schema, loadedInput);
        AssertSameSchema(model.GetOutputSchema(data.Schema), loaded.GetOutputSchema(data.Schema));
        var original = model.Transform(data);
        var reloaded = loaded.Transform(data);
        AssertSameSchema(original.Schema, reloaded.Schema);
        AssertBitIdentical(Scores(original), Scores(reloaded));
        Assert.Equal(Texts(original, "PredictedLabel"), Texts(reloaded, "PredictedLabel"));
    }

    // ---- (e) Fit leaves its input alone; the transformer gives the same answers every time ----

    [Fact]
    public void FitDoesNotChangeItsInput()
    {
        var rows = Enumerable.Range(0, 30).Select(i => new TinyClassifier.Row
        {
            Label = ((char)('a' + i % 3)).ToString(),
            Features = [i % 3 * 10f, i, -i, 1],   // unnormalised on purpose: a trainer scaling in place would show
        }).ToList();
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        var schemaBefore = Describe(data.Schema);
        var featuresBefore = data.GetColumn<float[]>("Features").Select(f => f.ToArray()).ToList();
        var labelsBefore = data.GetColumn<uint>("Label").ToList();
        var arraysBefore = rows.Select(r => r.Features.ToArray()).ToList();

        using var model = Trainer().Fit(data);

        Assert.Equal(schemaBefore, Describe(data.Schema));
        Assert.Equal(featuresBefore, data.GetColumn<float[]>("Features").ToList());
        Assert.Equal(labelsBefore, data.GetColumn<uint>("Label").ToList());
        Assert.Equal(arraysBefore, rows.Select(r => r.Features).ToList());
    }

    [Fact]
    public void TransformGivesTheSameScoresEveryTime()
    {
        var data = Keyed();
        using var model = Trainer().Fit(data);
        var first = Scores(model.Transform(data));
        // Another data set in between must leave no state behind.
        var other = ml.Transforms.Conversion.MapValueToKey("Label").Fit(Raw()).Transform(TinyClassifier.Data(ml, rows: 7, shift: 3));
        Assert.Equal(7, Scores(model.Transform(other)).Count);
        var second = Scores(model.Transform(data));
        // Enumerating one transformed view twice reads the same rows again.
        var view = model.Transform(data);
        var third = Scores(view);
        var fourth = Scores(view);

        AssertBitIdentical(first, second);
        AssertBitIdentical(first, third);
        AssertBitIdentical(first, fourth);
        // The scores depend on the row: not one constant vector (which would make the comparisons above empty).
        Assert.Contains(first, s => !s.SequenceEqual(first[0]));
    }

    // ---- (f) row-to-row mapper and PredictionEngine ----

    [Fact]
    public void RowToRowMapperAgreesWithTheOutputSchemaOnFittedAndLoadedModels()
    {
        var keyed = Keyed();
        using var model = Trainer().Fit(keyed);
        var raw = Raw();
        var chain = Pipeline().Fit(raw);
        var loaded = SaveAndLoad(chain, raw.Schema, out _);

        foreach (var (transformer, data) in new (ITransformer, IDataView)[] { (model, keyed), (chain, raw), (loaded, raw) })
        {
            // Scoring is row by row, so every one of them is a row-to-row mapper (PredictionEngine needs it).
            Assert.True(transformer.IsRowToRowMapper);
            var mapper = transformer.GetRowToRowMapper(data.Schema);
            Assert.Same(data.Schema, mapper.InputSchema);
            AssertSameSchema(transformer.GetOutputSchema(data.Schema), mapper.OutputSchema);
        }
    }

    [Fact]
    public void PredictionEngineMatchesTransformOnFittedAndLoadedModels()
    {
        var raw = Raw();
        var chain = Pipeline().Fit(raw);
        var loaded = SaveAndLoad(chain, raw.Schema, out _);
        var expectedScores = Scores(chain.Transform(raw));
        var expectedLabels = Texts(chain.Transform(raw), "PredictedLabel");
        var rows = ml.Data.CreateEnumerable<TinyClassifier.Row>(raw, reuseRowObject: false).ToList();

        foreach (var transformer in new[] { chain, loaded })
        {
            using var engine = ml.Model.CreatePredictionEngine<TinyClassifier.Row, Prediction>(transformer,
                new PredictionEngineOptions { OwnsTransformer = false });
            var predictions = rows.Select(engine.Predict).ToList();
            AssertBitIdentical(expectedScores, predictions.Select(p => p.Score).ToList());
            Assert.Equal(expectedLabels, predictions.Select(p => p.PredictedLabel).ToList());
        }
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = [];
        public string PredictedLabel { get; set; } = "";
    }

    // ---- helpers ----

    private IDataView Invalid(string problem)
    {
        var keyed = Keyed();
        return problem switch
        {
            "no feature column" => ml.Transforms.DropColumns("Features").Fit(keyed).Transform(keyed),
            "features of double" => ml.Transforms.Conversion.ConvertType("Features", outputKind: DataKind.Double).Fit(keyed).Transform(keyed),
            "features of variable size" => ml.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new VariableRow { Label = (uint)(i % 3 + 1), Features = [i, 1] })),
            "no label column" => ml.Transforms.DropColumns("Label").Fit(keyed).Transform(keyed),
            "label of text" => Raw(),
            "label of float" => ml.Data.LoadFromEnumerable(Enumerable.Range(0, 6).Select(i => new FloatLabelRow { Label = i % 3, Features = [i, 1, 0, 1] })),
            _ => throw new ArgumentOutOfRangeException(nameof(problem), problem, null),
        };
    }

    private sealed class WideRow
    {
        public string Label { get; set; } = "";
        [VectorType(5)] public float[] Features { get; set; } = new float[5];
    }

    private sealed class ByteKeyRow
    {
        [KeyType(3)] public byte Label { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    private sealed class TwoColumnRow
    {
        public string Label { get; set; } = "";
        public float A { get; set; }
        public float B { get; set; }
    }

    private sealed class VariableRow
    {
        [KeyType(3)] public uint Label { get; set; }
        public float[] Features { get; set; } = [];   // no VectorType: a vector of variable size
    }

    private sealed class FloatLabelRow
    {
        public float Label { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    private static string WithoutVectorSize(string message) => Regex.Replace(message, @"Vector<(\w+), \d+>", "Vector<$1>");

    private static void AssertRefused(Action action)
    {
        var e = Record.Exception(action);
        Assert.NotNull(e);
        Assert.True(e is ArgumentOutOfRangeException or InvalidOperationException, $"refused with {e.GetType().Name}: {e.Message}");
    }

    private ITransformer SaveAndLoad(ITransformer model, DataViewSchema inputSchema, out DataViewSchema loadedInput)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, inputSchema, stream);
        stream.Position = 0;
        var fresh = new MLContext(3);
        fresh.ComponentCatalog.RegisterAssembly(typeof(ArgMaxMapping).Assembly);
        return fresh.Model.Load(stream, out loadedInput);
    }

    private static List<float[]> Scores(IDataView scored) => scored.GetColumn<float[]>("Score").ToList();

    private static List<string> Texts(IDataView scored, string column)
        => scored.GetColumn<ReadOnlyMemory<char>>(column).Select(t => t.ToString()).ToList();

    private static void AssertBitIdentical(IReadOnlyList<float[]> expected, IReadOnlyList<float[]> actual)
    {
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, actual.Count);
        for (int row = 0; row < expected.Count; row++)
        {
            Assert.Equal(expected[row].Select(BitConverter.SingleToInt32Bits), actual[row].Select(BitConverter.SingleToInt32Bits));
        }
    }

    /// <summary>
    /// The <see cref="SchemaShape"/> ML.NET itself makes of <paramref name="schema"/>. <c>SchemaShape.Create</c> is
    /// internal in ML.NET 5, but <c>EstimatorChain.Fit</c> calls it and hands the result to its estimators'
    /// <c>GetOutputSchema</c> before fitting, so a probe estimator in a chain receives exactly that shape.
    /// </summary>
    private static SchemaShape ShapeOf(DataViewSchema schema)
    {
        var probe = new ShapeProbe();
        new EstimatorChain<ITransformer>().Append(probe).Fit(new SchemaOnlyView(schema));
        return probe.Seen ?? throw new InvalidOperationException("EstimatorChain.Fit did not propagate the schema shape.");
    }

    private sealed class ShapeProbe : IEstimator<ITransformer>
    {
        public SchemaShape? Seen { get; private set; }

        public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        {
            Seen = inputSchema;
            return inputSchema;
        }

        public ITransformer Fit(IDataView input) => new TransformerChain<ITransformer>();
    }

    /// <summary>A view with a schema and no rows to read: enough for schema propagation.</summary>
    private sealed class SchemaOnlyView(DataViewSchema schema) : IDataView
    {
        public DataViewSchema Schema => schema;
        public bool CanShuffle => false;
        public long? GetRowCount() => 0;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
            => throw new NotSupportedException("Schema only: no rows.");

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
            => throw new NotSupportedException("Schema only: no rows.");
    }

    private static void AssertColumn(SchemaShape shape, string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey)
    {
        var column = Assert.Single(shape, c => c.Name == name);
        Assert.Equal(kind, column.Kind);
        Assert.Equal(itemType, column.ItemType);
        Assert.Equal(isKey, column.IsKey);
    }

    /// <summary>
    /// TestEstimatorCore's CheckSameSchemaShape with its <c>IsCompatibleWith</c> (internal) spelled out: the same
    /// columns with the same kind, item type and key-ness, and every annotation delivered was promised.
    /// </summary>
    private static void AssertSameShape(SchemaShape promised, SchemaShape delivered)
    {
        Assert.Equal(Describe(promised), Describe(delivered));
        foreach (var column in delivered)
        {
            var promise = promised.Single(c => c.Name == column.Name);
            var promisedAnnotations = Describe(promise.Annotations);
            foreach (var annotation in Describe(column.Annotations))
                Assert.True(promisedAnnotations.Contains(annotation), $"column {column.Name} has annotation {annotation}, which GetOutputSchema did not promise");
        }
    }

    private static string[] Describe(SchemaShape shape)
        => shape.Select(c => $"{c.Name}: {c.Kind} of {c.ItemType}{(c.IsKey ? " (key)" : "")}").Order(StringComparer.Ordinal).ToArray();

    /// <summary>Column by column: name, hidden or not, exact type (vector sizes, key counts), annotation names and types, and key values.</summary>
    private static void AssertSameSchema(DataViewSchema expected, DataViewSchema actual) => Assert.Equal(Describe(expected), Describe(actual));

    private static string[] Describe(DataViewSchema schema) => schema.Select(c =>
    {
        var annotations = string.Join(", ", c.Annotations.Schema.Select(a => $"{a.Name}: {a.Type}"));
        var keyValues = "";
        if (c.Annotations.Schema.GetColumnOrNull("KeyValues") is { Type: VectorDataViewType { ItemType: TextDataViewType } })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            c.Annotations.GetValue("KeyValues", ref values);
            keyValues = " keys [" + string.Join(", ", values.DenseValues()) + "]";
        }
        return $"{c.Index} {c.Name}{(c.IsHidden ? " (hidden)" : "")}: {c.Type} {{{annotations}}}{keyValues}";
    }).ToArray();
}
