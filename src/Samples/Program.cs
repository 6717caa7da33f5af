using Samples;

// BlockSparse for ML.NET, sample console app. See README.md.
const string usage = "usage: BlockSparse.Samples <command> [options]\n\ncommands:\n" + TrainCommand.Usage + "\n" + PredictCommand.Usage
    + "\n" + ExportImagesCommand.Usage + "\n" + ExportOnnxCommand.Usage + "\n" + PredictImageCommand.Usage + "\n" + Samples.Bench.BenchCommand.Usage;

try
{
    return args.FirstOrDefault() switch
    {
        "train" => TrainCommand.Run(args.Skip(1)),
        "predict" => PredictCommand.Run(args.Skip(1)),
        "bench" => Samples.Bench.BenchCommand.Run(args.Skip(1)),
        "export-images" => ExportImagesCommand.Run(args.Skip(1)),
        "export-onnx" => ExportOnnxCommand.Run(args.Skip(1)),
        "predict-image" => PredictImageCommand.Run(args.Skip(1)),
        "-h" or "--help" or "help" => Help(),
        null => throw new UsageException("No command given."),
        var other => throw new UsageException($"Unknown command '{other}'."),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{usage}");
    return 2;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or InvalidOperationException
    or InsufficientMemoryException)
{
    // Bad data or options: the library's message says what was wrong; the stack trace would only bury it.
    // ML.NET wraps errors met while reading rows in its own ("Splitter/consolidator worker encountered
    // exception ..."): add the innermost cause unless the message already says it.
    var cause = e;
    while (cause.InnerException is not null)
        cause = cause.InnerException;
    bool said = ReferenceEquals(cause, e) || e is InvalidDataException || e.Message.Contains(cause.Message, StringComparison.Ordinal);
    Console.Error.WriteLine(said ? $"error: {e.Message}" : $"error: {e.Message} Cause: {cause.Message}");
    if (Environment.GetEnvironmentVariable("BLOCKSPARSE_STACK") is "1")
        Console.Error.WriteLine(e);
    return 1;
}

static int Help()
{
    Console.WriteLine(usage);
    return 0;
}
