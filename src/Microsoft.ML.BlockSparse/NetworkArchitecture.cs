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
}
