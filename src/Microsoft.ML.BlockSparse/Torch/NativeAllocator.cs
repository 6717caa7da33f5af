using System.Runtime.InteropServices;

namespace Microsoft.ML.BlockSparse.Torch;

/// <summary>
/// Keeps glibc from handing freed tensor memory back to the operating system between training steps.
/// </summary>
/// <remarks>
/// LibTorch's CPU tensors come from malloc. By default glibc serves large blocks with fresh mmaps and
/// trims the top of its heap when enough of it is free, so every step unmaps memory the next step maps
/// again, and each fresh page costs a minor page fault: hundreds to thousands per step, and steps that
/// alternate between two speeds. Pinning the mmap threshold at its maximum (32 MiB on 64-bit) and
/// never trimming keeps those pages in the process. The cost is that memory freed after a run is kept
/// for reuse instead of returned. The setting is process-wide and cannot be scoped to one trainer;
/// <c>BlockSparseTrainer.Options.TuneNativeAllocator = false</c> leaves the allocator alone, and so does
/// an explicit <c>MALLOC_MMAP_THRESHOLD_</c> or <c>MALLOC_TRIM_THRESHOLD_</c> in the environment.
/// </remarks>
internal static class NativeAllocator
{
    // glibc's malloc.h: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3.
    private const int TrimThreshold = -1, MmapThreshold = -3;

    /// <summary>glibc refuses larger mmap thresholds on 64-bit (HEAP_MAX_SIZE / 2).</summary>
    public const int MmapThresholdBytes = 32 * 1024 * 1024;

    private static readonly Lock Gate = new();
    private static bool? tuned;

    /// <summary>Whether <see cref="Tune"/> has changed the allocator in this process.</summary>
    public static bool IsTuned => tuned == true;

    /// <summary>
    /// Applies the setting once per process (later calls return the first answer). Returns false where it
    /// does not apply: not Linux, not glibc, or the user already chose a malloc setting in the environment.
    /// </summary>
    public static bool Tune()
    {
        lock (Gate)
        {
            tuned ??= TryTune();
            return tuned.Value;
        }
    }

    private static bool TryTune()
    {
        if (!OperatingSystem.IsLinux()
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
            return false;
        try
        {
            // mallopt returns 1 on success; musl's is a stub that returns 0.
            return Mallopt(MmapThreshold, MmapThresholdBytes) == 1 && Mallopt(TrimThreshold, -1) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // libc.so.6, not "libc": on glibc systems libc.so is a linker script that dlopen cannot load.
    [DllImport("libc.so.6", EntryPoint = "mallopt", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Mallopt(int parameter, int value);
}
