namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// How one convolution stage will be built: convolution (factored over channel blocks of
/// <see cref="Block"/> at Kronecker <see cref="Rank"/>, or dense and why), ReLU, then max pooling of
/// <see cref="Pool"/>×<see cref="Pool"/> (1: none).
/// </summary>
internal sealed record ConvPlan(int InChannels, int OutChannels, int Kernel, int Padding, (int Height, int Width) Input,
    BlockShape? Block, int Rank, string? DenseReason, int Pool)
{
    public bool Factored => Block is not null;

    /// <summary>The convolution's output size, before pooling.</summary>
    public (int Height, int Width) ConvOutput => ConvCost.OutputSize(Input, (Kernel, Kernel), 1, Padding);

    /// <summary>The stage's output size, after pooling (floor, as <c>max_pool2d</c> and ONNX MaxPool).</summary>
    public (int Height, int Width) Output => (ConvOutput.Height / Pool, ConvOutput.Width / Pool);

    /// <summary>Values the stage outputs: <c>Cout·H·W</c> after pooling.</summary>
    public int OutputLength => OutChannels * Output.Height * Output.Width;
}
