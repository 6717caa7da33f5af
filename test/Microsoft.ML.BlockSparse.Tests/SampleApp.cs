using System.Diagnostics;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Runs the sample console app as a separate process, as a user would.</summary>
internal static class SampleApp
{
    public static string Run(params string[] args) => RunWithExitCode(args) is (0, var output)
        ? output
        : throw new InvalidOperationException($"sample app failed:\n{RunWithExitCode(args).Output}");

    public static (int ExitCode, string Output) RunWithExitCode(params string[] args)
    {
        // The app is built beside the tests (project reference), with its own runtimeconfig.
        var app = Path.Combine(AppContext.BaseDirectory, "BlockSparse.Samples.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(app);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("sample app did not finish in 5 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
