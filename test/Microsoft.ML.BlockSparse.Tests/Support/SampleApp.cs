using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Runs the sample console app as a separate process, as a user would.</summary>
internal static class SampleApp
{
    public static string Run(params string[] args) => RunWithExitCode(args) is (0, var output)
        ? output
        : throw new InvalidOperationException($"sample app failed:\n{RunWithExitCode(args).Output}");

    public static (int ExitCode, string Output) RunWithExitCode(params string[] args) => RunWithExitCode(null, args);

    public static (int ExitCode, string Output) RunWithExitCode(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("sample app did not finish in 5 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>
    /// Runs the app and sends it SIGINT, as Ctrl+C in a terminal does, as soon as a line of its
    /// output contains <paramref name="marker"/>.
    /// </summary>
    public static (int ExitCode, string Output) RunAndInterrupt(string marker, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = new Process { StartInfo = StartInfo(args, environment, defaultSigInt: true) };
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int interrupted = 0;
        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            output.Enqueue(e.Data);
            if (e.Data.Contains(marker, StringComparison.Ordinal) && Interlocked.Exchange(ref interrupted, 1) == 0)
                Kill(process.Id, SigInt);
        }
        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("sample app did not finish in 5 minutes");
        }
        process.WaitForExit();  // drains the asynchronous readers
        return (process.ExitCode, string.Join("\n", output));
    }

    private const int SigInt = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    // defaultSigInt: a test run started as a background job (`bash build/test.sh &`, nohup) inherits SIGINT ignored,
    // and so would the app, whose runtime then never sees the signal (the Ctrl+C test waited out its minute and
    // failed). coreutils' env (9.0 and later) starts the app with SIGINT back at its default, as a terminal's
    // foreground job has it, and execs it, so the process id stays the app's.
    private static ProcessStartInfo StartInfo(string[] args, IReadOnlyDictionary<string, string>? environment, bool defaultSigInt = false)
    {
        // The app is built beside the tests (project reference), with its own runtimeconfig.
        var app = Path.Combine(AppContext.BaseDirectory, "BlockSparse.Samples.dll");
        var start = new ProcessStartInfo(defaultSigInt ? "env" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (defaultSigInt)
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(app);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return start;
    }
}
