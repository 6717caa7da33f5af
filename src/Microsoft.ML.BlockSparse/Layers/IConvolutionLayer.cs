using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>A 2-D convolution of the network: factored (<see cref="KroneckerConv2d"/>) or dense (<see cref="DenseConv2d"/>).</summary>
internal interface IConvolutionLayer : IOnnxLayer
{
    int InChannels { get; }
    int OutChannels { get; }
    (int Height, int Width) Kernel { get; }
    int Stride { get; }
    int Padding { get; }

    /// <summary>The input feature map size the layer was planned for (costs and export use it).</summary>
    (int Height, int Width) Input { get; }

    /// <summary>The output feature map size for <see cref="Input"/>.</summary>
    (int Height, int Width) Output { get; }

    Tensor Bias { get; }

    /// <summary>The dense kernel <c>Cout × Cin × kh × kw</c>. For tests and export only.</summary>
    Tensor MaterializeKernel();

    /// <summary>Counts for the sparsity report, read from the layer's current weights.</summary>
    Reporting.LayerSparsity Describe(int index);
}
