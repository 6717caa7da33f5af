using Microsoft.ML;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class DenormalFlushTests
{
    // 1e-30 · 1e-10 = 1e-40 lies below float's smallest normal (1.18e-38): a denormal unless flushed.
    private static float TinyProduct()
    {
        using var tiny = tensor(new[] { 1e-30f });
        using var factor = Scalars.Of(1e-10);
        using var product = tiny.mul(factor);
        return product.item<float>();
    }

    [Fact]
    public void InsideTheScopeDenormalsAreZeroAndAfterItTheThreadsModeIsBack()
    {
        Assert.True(TinyProduct() > 0, "outside any scope a denormal result is kept");
        bool active;
        using (var flush = DenormalFlush.Begin())
        {
            active = flush.Active;
            // This project's machines are x86-64 Linux with glibc; elsewhere the scope must be a harmless no-op.
            if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
                Assert.True(active);
            if (active)
                Assert.Equal(0f, TinyProduct());
        }
        Assert.True(TinyProduct() > 0, "the scope restores the thread's previous mode");
    }

    [Fact]
    public void TrainingLeavesTheCallersModeAsItWas()
    {
        // Fit flushes denormals while it trains on the CPU; the thread that called it gets its mode back.
        TinyClassifier.Train(new MLContext(seed: 1));
        Assert.True(TinyProduct() > 0);
    }

    [Fact]
    public void DisposingTwiceRestoresOnce()
    {
        var flush = DenormalFlush.Begin();
        flush.Dispose();
        using (var inner = DenormalFlush.Begin())
        {
            flush.Dispose();   // a stale second dispose must not undo the inner scope
            if (inner.Active)
                Assert.Equal(0f, TinyProduct());
        }
        Assert.True(TinyProduct() > 0);
    }
}
