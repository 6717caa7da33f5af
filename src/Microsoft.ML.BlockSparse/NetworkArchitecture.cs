namespace Microsoft.ML.BlockSparse;

/// <summary>The shape of the network <see cref="BlockSparseTrainer"/> trains.</summary>
public enum NetworkArchitecture
{
    /// <summary>
    /// A multilayer perceptron on the flat feature vector: <see cref="BlockSparseTrainer.Options.HiddenLayers"/>,
    /// then the output layer, ReLU between layers. The default.
    /// </summary>
    Mlp = 0,

    /// <summary>
    /// LeNet-5 on images (needs the image shape, from <see cref="BlockSparseTrainer.Options.ImageShape"/> or
    /// from <c>ExtractPixels</c>): 5x5 convolution (padding 2) to 6 channels, ReLU, 2x2 max pooling, 5x5
    /// convolution to 16 channels, ReLU, 2x2 max pooling, then linear layers 120, 84 and the classes with
    /// ReLU between them. Convolutions are factored over channel blocks (docs/method.md, "Convolutions") where
    /// that is cheaper than dense. <see cref="BlockSparseTrainer.Options.HiddenLayers"/> does not apply.
    /// </summary>
    LeNet5 = 1,

    /// <summary>
    /// A Vision Transformer on images (needs the image shape, as LeNet5): the image is cut into
    /// <see cref="BlockSparseTrainer.Options.VitPatchSize"/> squares, each flattened and embedded by a linear layer, plus a
    /// learned position embedding; then <see cref="BlockSparseTrainer.Options.VitDepth"/> pre-norm encoder blocks
    /// (LayerNorm, multi-head self-attention, residual; LayerNorm, MLP with GELU, residual), a final LayerNorm, the mean
    /// over the patch tokens (no class token) and the linear classifier. Every linear layer (patch embedding, each
    /// block's qkv, proj, fc1 and fc2, and the classifier) is planned like an MLP layer: factored with the same options
    /// (rank, block shapes or λ2 search, λ1, pruning) where that saves parameters and FLOPs. LayerNorms, biases and
    /// position embeddings stay dense. <see cref="BlockSparseTrainer.Options.HiddenLayers"/> does not apply.
    /// </summary>
    VisionTransformer = 2,
}
