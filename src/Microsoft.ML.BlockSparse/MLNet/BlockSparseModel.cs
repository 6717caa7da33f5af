using Microsoft.ML.BlockSparse.MLNet;
using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// A trained BlockSparse classifier: adds <c>Score</c> (one probability per class) and
/// <c>PredictedLabel</c> (the label's key type). Immutable after <see cref="BlockSparseTrainer.Fit"/>.
/// </summary>
/// <remarks>
/// Scoring runs the exported ONNX network through ONNX Runtime, so it needs neither TorchSharp nor
/// libtorch. <c>mlContext.Model.Save</c> writes that scoring chain of ML.NET's own transformers plus one
/// custom mapping of the TorchSharp-free <c>Microsoft.ML.BlockSparse.Scoring</c> assembly (package
/// BlockSparse.MLNet.Scoring); <c>mlContext.Model.Load</c> returns it as a
/// <see cref="TransformerChain{TLastTransformer}"/> (ML.NET keeps the API to reload a custom transformer type
/// internal). ML.NET finds the mapping by itself when that assembly ships with the application.
/// The report and history are available here, on the object <c>Fit</c> returns.
/// It is an <see cref="ISingleFeaturePredictionTransformer{TModel}"/>, so ML.NET's
/// <c>PermutationFeatureImportance</c> accepts it (pass this model, not the chain, with data already
/// transformed by the steps before it).
/// </remarks>
public sealed class BlockSparseModel : ISingleFeaturePredictionTransformer<BlockSparseModel>, IDisposable
{
    private readonly ITransformer scoring;
    private readonly byte[] onnxModel;
    private readonly ScoringInputCheck inputCheck;

    internal BlockSparseModel(ITransformer scoring, SparsityReport report, IReadOnlyList<EpochSummary> history,
        byte[] onnxModel, ScoringInputCheck inputCheck, int keptEpoch)
    {
        this.scoring = scoring;
        this.onnxModel = onnxModel;
        this.inputCheck = inputCheck;
        Report = report;
        History = history;
        ClassCount = inputCheck.ClassCount;
        FeatureLength = inputCheck.FeatureLength;
        KeptEpoch = keptEpoch;
    }

    /// <summary>Block shapes, zero blocks, parameters and FLOPs of the trained network against dense.</summary>
    public SparsityReport Report { get; }

    /// <summary>One summary per training epoch.</summary>
    public IReadOnlyList<EpochSummary> History { get; }

    /// <summary>
    /// The 1-based epoch whose weights the model holds: the last one trained, or with
    /// <see cref="BlockSparseTrainer.Options.EarlyStoppingPatience"/> the one with the best validation accuracy.
    /// </summary>
    public int KeptEpoch { get; }

    /// <summary>
    /// For <see cref="BlockSparseMethod.Dense"/> models, the trained weights of every layer, input side first: pass
    /// them as <see cref="BlockSparseTrainer.Options.InitialWeights"/> to start a Kronecker run from them (nearest
    /// Kronecker product). Null for the other methods, which never build dense weights.
    /// </summary>
    public IReadOnlyList<DenseLayerWeights>? DenseWeights { get; internal init; }

    /// <summary>The feature column the model reads.</summary>
    public string FeatureColumnName => inputCheck.FeatureColumnName;

    /// <summary>The feature column's type: a vector of <see cref="FeatureLength"/> floats.</summary>
    DataViewType ISingleFeaturePredictionTransformer<BlockSparseModel>.FeatureColumnType => new VectorDataViewType(NumberDataViewType.Single, FeatureLength);

    /// <summary>The model itself: a BlockSparse model has no separate predictor object.</summary>
    BlockSparseModel IPredictionTransformer<BlockSparseModel>.Model => this;

    /// <summary>Number of classes (length of <c>Score</c>).</summary>
    public int ClassCount { get; }

    /// <summary>Length of the feature vector the model reads.</summary>
    public int FeatureLength { get; }

    /// <summary>Size in bytes of the ONNX network the model stores (factors, not dense weights).</summary>
    public long OnnxModelBytes => onnxModel.LongLength;

    /// <summary>
    /// Writes the network as a standalone ONNX model, in factored form, for ONNX Runtime in any language or an ONNX
    /// serving engine: one input named after the feature column (<c>float</c>, shape <c>[FeatureLength]</c>, no batch
    /// axis) and one output <c>Score</c> (<c>float</c>, shape <c>[ClassCount]</c>, softmax probabilities in the order of
    /// the label's key values). The arg-max and the label values stay with the caller. From a saved zip,
    /// <c>OnnxNetworkFile.Read</c> (scoring package) returns the same bytes.
    /// </summary>
    public void SaveOnnx(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(onnxModel);
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => scoring.IsRowToRowMapper;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">
    /// The feature column is missing or of another length than in training, or the label column is a key
    /// of other classes than in training (the evaluators would compare mismatched key indices).
    /// </exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        inputCheck.Check(inputSchema);
        return scoring.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        inputCheck.Check(inputSchema);
        return scoring.GetRowToRowMapper(inputSchema);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">As for <see cref="GetOutputSchema"/>.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        inputCheck.Check(input.Schema);
        return scoring.Transform(input);
    }

    // Saves exactly what the scoring chain saves: the zip then holds only ML.NET's own, loadable
    // transformers (and the embedded ONNX bytes).
    void ICanSaveModel.Save(ModelSaveContext ctx) => scoring.Save(ctx);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => (scoring as IDisposable)?.Dispose();
}
