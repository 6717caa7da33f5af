using System.Runtime.InteropServices;
using Microsoft.ML.BlockSparse.Torch;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>The message Fit gives when TorchSharp's natives are missing names the package for the OS and architecture.</summary>
public class TorchNativesTests
{
    private const string Cause = "This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64, Version=2.10.0.0.\n\nTRACE-LINE";

    [Theory]
    [InlineData("linux", Architecture.X64, "libtorch-cpu-linux-x64", "TorchSharp-cuda-linux")]
    [InlineData("windows", Architecture.X64, "libtorch-cpu-win-x64", "TorchSharp-cuda-windows")]
    [InlineData("osx", Architecture.Arm64, "libtorch-cpu-osx-arm64", null)]
    public void NamesThePackageForThisPlatform(string os, Architecture architecture, string cpuPackage, string? cudaPackage)
    {
        var message = TorchNatives.MissingMessage(architecture, os, Cause);
        Assert.Contains($"dotnet add package {cpuPackage}", message);
        Assert.Contains("TorchSharp-cpu", message);
        if (cudaPackage is null)
            Assert.DoesNotContain("TorchSharp-cuda", message);
        else
            Assert.Contains(cudaPackage, message);
        Assert.Equal(os == "linux", message.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal));
        Assert.Contains("BlockSparse.MLNet.Scoring", message);
        // TorchSharp's own first line is kept, its long trace is not.
        Assert.Contains("doesn't contain a reference to libtorch-cpu-linux-x64", message);
        Assert.DoesNotContain("TRACE-LINE", message);
    }

    [Fact]
    public void APlatformWithoutCpuNativesIsSaidSo()
    {
        var message = TorchNatives.MissingMessage(Architecture.X64, "osx", Cause);
        Assert.Contains("TorchSharp publishes no CPU natives for osx/x64", message);
        Assert.DoesNotContain("libtorch-cpu-osx-x64", message);
    }

    [Fact]
    public void LoadsHereWhereTheTestsCarryTheNatives() => TorchNatives.EnsureLoaded();
}
