using System.Diagnostics;

namespace Samples.Bench;

/// <summary>
/// The process's peak resident memory for one stretch of work. Linux resets the peak (VmHWM) when "5"
/// is written to /proc/self/clear_refs, so methods run one after another in one process each get
/// their own peak; where that is not possible the process-wide peak is all there is, and it says so.
/// </summary>
internal sealed class PeakMemory
{
    public PeakMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            PerStretch = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            PerStretch = false;
        }
    }

    /// <summary>False when the peak could not be reset: <see cref="Read"/> is then the whole process's peak.</summary>
    public bool PerStretch { get; }

    public static long Read()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null)
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
        }
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
