using Microsoft.ML.BlockSparse;

namespace Samples;

/// <summary>
/// Prints each epoch as it ends (synchronously, unlike System.Progress), with a bar of the epochs done so far
/// at the end of the line (lines still start with "epoch", which build/sweep.sh reads).
/// </summary>
internal sealed class ConsoleProgress : IProgress<EpochSummary>
{
    /// <summary>
    /// For tests of Ctrl+C: with BLOCKSPARSE_WAIT_FOR_CTRL_C_AFTER_EPOCH=N set, training waits after
    /// printing epoch N (at most a minute) until Ctrl+C cancels it. Without it, a test that sends the
    /// signal when it reads that line races the remaining epochs, and on a loaded machine they can
    /// all finish first.
    /// </summary>
    private readonly int waitAfterEpoch = int.TryParse(Environment.GetEnvironmentVariable("BLOCKSPARSE_WAIT_FOR_CTRL_C_AFTER_EPOCH"), out var n) ? n : 0;

    /// <summary>Cancelled by Ctrl+C (set by the train command).</summary>
    public CancellationToken Cancellation { get; set; }

    /// <summary>A 20-character bar of <paramref name="done"/> out of <paramref name="total"/>, e.g. <c>[#####...............]</c>.</summary>
    public static string Bar(int done, int total)
    {
        const int width = 20;
        int filled = total <= 0 ? width : (int)Math.Round(width * Math.Clamp((double)done / total, 0, 1));
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }

    public void Report(EpochSummary value)
    {
        Console.WriteLine($"{value}  {Bar(value.Epoch, value.Epochs)}");
        if (value.Epoch == waitAfterEpoch)
            Cancellation.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
    }
}
