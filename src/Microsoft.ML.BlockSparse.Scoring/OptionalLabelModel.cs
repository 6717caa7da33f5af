using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.BlockSparse;

/// <summary>
/// A fitted pipeline that predicts from input without the label column: a <c>MapValueToKey</c> step whose input
/// column is absent is left out, so Model Builder's pipeline (<c>MapValueToKey("Label") → trainer →
/// MapKeyToValue("PredictedLabel")</c>) scores an input class that has only the image.
/// </summary>
/// <remarks>
/// ML.NET's <see cref="TransformerChain{TLastTransformer}"/> gives every step the input, and <c>MapValueToKey</c> on
/// the label then fails with "Could not find input column 'Label'" although scoring never reads the label (Model
/// Builder's generated <c>ModelInput</c> carries an empty <c>Label</c> for that reason alone). Which steps are left
/// out depends on the input schema only; with the label present, every step runs, and saving writes the whole chain.
/// </remarks>
internal sealed class OptionalLabelModel : ITransformer, IDisposable
{
    private readonly ITransformer chain;
    private readonly ITransformer[] steps;

    // chain: a TransformerChain of any last type (ML.NET's Fit returns TransformerChain<TLast>, which is not a
    // TransformerChain<ITransformer>); steps: its transformers.
    public OptionalLabelModel(ITransformer chain, IEnumerable<ITransformer> steps)
    {
        this.chain = chain;
        this.steps = steps.ToArray();
    }

    public bool IsRowToRowMapper => chain.IsRowToRowMapper;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => For(inputSchema).GetOutputSchema(inputSchema);

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => For(inputSchema).GetRowToRowMapper(inputSchema);

    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return For(input.Schema).Transform(input);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)chain).Save(ctx);

    public void Dispose() => (chain as IDisposable)?.Dispose();

    private ITransformer For(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var kept = new List<ITransformer>();
        var schema = inputSchema;
        bool skipped = false;
        foreach (var step in steps)
        {
            if (step is ValueToKeyMappingTransformer && !Accepts(step, schema))
            {
                skipped = true;
                continue;
            }
            kept.Add(step);
            schema = step.GetOutputSchema(schema);
        }
        return skipped ? new TransformerChain<ITransformer>(kept.ToArray()) : chain;
    }

    private static bool Accepts(ITransformer step, DataViewSchema schema)
    {
        try
        {
            step.GetOutputSchema(schema);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
