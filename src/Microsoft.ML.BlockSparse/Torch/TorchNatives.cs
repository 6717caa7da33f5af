using System.Runtime.InteropServices;
using TorchSharp;

namespace Microsoft.ML.BlockSparse.Torch;

/// <summary>
/// Loads TorchSharp's native backend before training and, when it is missing, says which package the
/// application must add. The library references the managed <c>TorchSharp</c> package only (as ML.NET's own
/// TorchSharp trainers do), so the natives for the app's OS, architecture and CPU/CUDA are its choice.
/// </summary>
internal static class TorchNatives
{
    private static readonly object Gate = new();
    private static bool loaded;

    /// <summary>Makes sure libtorch is loaded; throws a clear <see cref="InvalidOperationException"/> when it cannot be.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded)
                return;
            try
            {
                Touch();
                loaded = true;
            }
            catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
            {
                throw new InvalidOperationException(
                    MissingMessage(RuntimeInformation.OSArchitecture, OsName(), Innermost(e).Message), e);
            }
        }
    }

    // Kept apart so that the first use of torch (whose static constructor loads the natives) happens inside the try.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Touch() => torch.InitializeDeviceType(DeviceType.CPU);

    /// <summary>
    /// The message for natives that did not load: the package to add for <paramref name="os"/>
    /// ("linux", "windows", "osx" or other) and <paramref name="architecture"/>, the CUDA alternatives, and on
    /// Linux the libstdc++ requirement that makes TorchSharp report a missing package when the package is there.
    /// </summary>
    public static string MissingMessage(Architecture architecture, string os, string cause)
    {
        string? rid = (os, architecture) switch
        {
            ("linux", Architecture.X64) => "linux-x64",
            ("windows", Architecture.X64) => "win-x64",
            ("windows", Architecture.Arm64) => "win-arm64",
            ("osx", Architecture.Arm64) => "osx-arm64",
            _ => null,
        };
        string cpu = rid is null
            ? $"TorchSharp publishes no CPU natives for {os}/{architecture.ToString().ToLowerInvariant()}; the combination package TorchSharp-cpu lists those it has"
            : $"for the CPU add the package libtorch-cpu-{rid} (`dotnet add package libtorch-cpu-{rid}`), or TorchSharp-cpu, which carries every OS's CPU natives";
        string cuda = os switch
        {
            "linux" => " For an NVIDIA GPU add TorchSharp-cuda-linux instead.",
            "windows" => " For an NVIDIA GPU add TorchSharp-cuda-windows instead.",
            _ => "",
        };
        string glibcxx = os == "linux"
            ? " If the package is referenced already: TorchSharp's native library needs a libstdc++ that provides GLIBCXX_3.4.32 (GCC 13 or newer), "
              + "and without it TorchSharp reports the package as missing; check with `strings $(gcc -print-file-name=libstdc++.so.6) | grep GLIBCXX_3.4.32` "
              + "or `ldconfig -p | grep libstdc++` and install a newer libstdc++6."
            : "";
        return "BlockSparse trains with TorchSharp, whose native library (libtorch) could not be loaded. The BlockSparse package "
            + "references the managed TorchSharp package only, so the application chooses the natives: "
            + cpu + "." + cuda + glibcxx
            + " (Scoring a saved model needs no natives: reference BlockSparse.MLNet.Scoring only.) TorchSharp said: " + FirstLine(cause);
    }

    private static string OsName() =>
        OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "osx" : RuntimeInformation.OSDescription;

    private static string FirstLine(string text)
    {
        int end = text.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? text : text[..end]).Trim();
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }
}
