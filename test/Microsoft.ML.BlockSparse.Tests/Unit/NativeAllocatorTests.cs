using Microsoft.ML.BlockSparse.Torch;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

public class NativeAllocatorTests
{
    [Fact]
    public void TuneAppliesOnGlibcLinuxUnlessTheEnvironmentChoseAndAnswersTheSameEveryTime()
    {
        bool first = NativeAllocator.Tune();
        bool userChose = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null;
        // This project's machines run glibc Linux; elsewhere the call must be a harmless no-op.
        if (OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6") && !userChose)
            Assert.True(first);
        if (!OperatingSystem.IsLinux() || userChose)
            Assert.False(first);
        Assert.Equal(first, NativeAllocator.Tune());
        Assert.Equal(first, NativeAllocator.IsTuned);
    }

    [Fact]
    public void OptionsTuneByDefaultAndCarryTheOptOutIntoTheRun()
    {
        Assert.True(new BlockSparseTrainer.Options().TuneNativeAllocator);
        var run = Run.RunDescription.From(new BlockSparseTrainer.Options { TuneNativeAllocator = false });
        Assert.False(run.TuneNativeAllocator);
    }
}
