using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Torch;

/// <summary>Views of parts of one flat buffer, as the optimiser and the gate masks keep their state.</summary>
internal static class FlatView
{
    /// <summary>
    /// Elements <c>offset … offset+numel(shape)-1</c> of <paramref name="flat"/> as a tensor of
    /// <paramref name="shape"/>. The intermediate narrow is disposed here: left to the finaliser, it
    /// could be freed while native code still reads it.
    /// </summary>
    public static Tensor Of(Tensor flat, long offset, long[] shape)
    {
        using var part = flat.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b));
        return part.view(shape);
    }
}
