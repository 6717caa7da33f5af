using Microsoft.ML.BlockSparse;

namespace Microsoft.ML;

/// <summary>The <c>BlockSparse</c> entry points on <see cref="MulticlassClassificationCatalog"/>.</summary>
public static class BlockSparseCatalog
{
    /// <summary>
    /// A block-sparse multiclass classifier: an MLP of Kronecker-factored layers trained with TorchSharp.
    /// Defaults are those of <see cref="BlockSparseTrainer.Options"/>.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column, a key type.</param>
    /// <param name="featureColumnName">Feature column, a known-size vector of <see cref="float"/>, or encoded image bytes (<c>byte[]</c>, Model Builder's <c>ImageSource</c>).</param>
    /// <param name="hiddenLayers">Hidden layer sizes; null for the default <c>[300, 100]</c>.</param>
    /// <param name="rank">Kronecker rank of the factored layers.</param>
    /// <param name="blockShape">Block shape for every layer; null to choose one per layer.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="seed">Seed for initialisation and shuffling.</param>
    /// <param name="progress">Told each epoch's <see cref="EpochSummary"/> as it ends, on the training thread; null for silent training.</param>
    public static BlockSparseTrainer BlockSparse(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", int[]? hiddenLayers = null,
        int rank = BlockSparseTrainer.Defaults.Rank, BlockShape? blockShape = null, int epochs = BlockSparseTrainer.Defaults.Epochs, int seed = 0,
        IProgress<EpochSummary>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var options = new BlockSparseTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            Rank = rank,
            BlockShape = blockShape,
            Epochs = epochs,
            Seed = seed,
            Progress = progress,
        };
        if (hiddenLayers is not null)
            options.HiddenLayers = hiddenLayers;
        return new BlockSparseTrainer(options);
    }

    /// <summary>A block-sparse multiclass classifier with all options spelled out.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The trainer's options.</param>
    public static BlockSparseTrainer BlockSparse(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        BlockSparseTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new BlockSparseTrainer(options);
    }
}
