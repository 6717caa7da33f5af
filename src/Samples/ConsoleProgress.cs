using Microsoft.ML.BlockSparse;

namespace Samples;

/// <summary>Prints each epoch as it ends (synchronously, unlike System.Progress).</summary>
internal sealed class ConsoleProgress : IProgress<EpochSummary>
{
    public void Report(EpochSummary value) => Console.WriteLine(value.ToString());
}
