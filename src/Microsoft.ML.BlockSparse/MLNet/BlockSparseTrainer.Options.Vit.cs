namespace Microsoft.ML.BlockSparse;

public sealed partial class BlockSparseTrainer
{
    public sealed partial class Options
    {
        /// <summary>
        /// Side of the square patches a <see cref="NetworkArchitecture.VisionTransformer"/> cuts the image into; it must
        /// divide the image's height and width. Default 7 (16 patches of a 28x28 image). Other architectures ignore it.
        /// </summary>
        public int VitPatchSize { get; set; } = Defaults.VitPatchSize;

        /// <summary>
        /// Width of the Vision Transformer's tokens (the embedding dimension); it must be a multiple of
        /// <see cref="VitHeads"/>. Default 64.
        /// </summary>
        public int VitDimension { get; set; } = Defaults.VitDimension;

        /// <summary>Encoder blocks of the Vision Transformer. Default 2.</summary>
        public int VitDepth { get; set; } = Defaults.VitDepth;

        /// <summary>Attention heads per encoder block; each reads <c>VitDimension / VitHeads</c> values of every token. Default 4.</summary>
        public int VitHeads { get; set; } = Defaults.VitHeads;

        /// <summary>The hidden width of each block's MLP as a multiple of <see cref="VitDimension"/>. Default 2.</summary>
        public int VitMlpRatio { get; set; } = Defaults.VitMlpRatio;
    }
}
