using Microsoft.ML.Data;

namespace Microsoft.ML.BlockSparse.MLNet;

/// <summary>
/// Works out the image shape of the feature column, from <see cref="BlockSparseTrainer.Options.ImageShape"/>
/// or from the column's own dimensions, and says clearly when a shape and the feature vector disagree.
/// </summary>
internal static class ImageShapeCheck
{
    /// <summary>
    /// The image shape to train with: the configured one, else the one the feature column's type carries,
    /// else null (flat features).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The configured shape's <c>C·H·W</c> is not the feature length, or it contradicts the column's dimensions.
    /// </exception>
    public static ImageShape? Resolve(ImageShape? configured, DataViewSchema.Column features, int featureLength)
    {
        var detected = FromColumnType(features.Type);
        if (configured is null)
            return detected;
        if (configured.Length != featureLength)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ImageShape),
                $"BlockSparseTrainer.Options.ImageShape is {configured} (channels x height x width), {configured.Length} values per image, "
                + $"but feature column '{features.Name}' holds {featureLength} values per row. Make the shape match the pixel extraction "
                + "(for example ResizeImages to the shape's height and width, and one or three colour channels), or leave ImageShape null.");
        }
        if (detected is not null && detected != configured)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSparseTrainer.Options.ImageShape),
                $"BlockSparseTrainer.Options.ImageShape is {configured} (channels x height x width), but feature column '{features.Name}' "
                + $"comes from a pixel extraction of shape {detected}. Set ImageShape to {detected} or leave it null to use the column's shape.");
        }
        return configured;
    }

    /// <summary>
    /// The shape of a column made by <c>ExtractPixels</c>: its type has the dimensions <c>[C, H, W]</c>.
    /// Interleaved extraction gives <c>[H, W, C]</c> instead; only a leading side of 1 to 4 (a colour count)
    /// with a trailing side over 4 is taken as planar, so an ambiguous or other 3-D column gives null.
    /// </summary>
    internal static ImageShape? FromColumnType(DataViewType type)
        => type is VectorDataViewType { Dimensions: [var c, var h, var w] } && c is >= 1 and <= 4 && h >= 1 && w > 4
            ? new ImageShape(c, h, w)
            : null;
}
