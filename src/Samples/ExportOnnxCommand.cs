using Microsoft.ML.BlockSparse;
using Microsoft.ML.OnnxRuntime;

namespace Samples;

/// <summary>
/// <c>export-onnx</c>: writes the factored network of a saved model zip as a standalone ONNX file, for ONNX
/// Runtime in any language or an ONNX serving engine, and prints its input and output names and shapes.
/// </summary>
internal static class ExportOnnxCommand
{
    public const string Usage = """
        export-onnx --model FILE.zip --out FILE.onnx
          writes the model's network as a standalone ONNX file (input: the feature vector, output: Score, softmax probabilities)
        """;

    private static readonly HashSet<string> ValueOptions = ["--model", "--out"];

    public static int Run(IEnumerable<string> args)
    {
        var cl = new CommandLine(args, ValueOptions, new HashSet<string>());
        var modelPath = cl.Text("--model") ?? throw new UsageException("export-onnx needs --model FILE.zip.");
        var outPath = cl.Text("--out") ?? throw new UsageException("export-onnx needs --out FILE.onnx.");
        ModelArgument.Check(modelPath);
        OutputTarget.File(outPath, "--out", "the ONNX file to write (FILE.onnx)");

        var onnx = OnnxNetworkFile.Read(modelPath);
        OutputFile.Write(outPath, path => File.WriteAllBytes(path, onnx));
        Console.WriteLine($"ONNX network written: {outPath} ({onnx.Length:N0} bytes)");
        using var session = new InferenceSession(onnx);
        foreach (var (kind, metadata) in new[] { ("input", session.InputMetadata), ("output", session.OutputMetadata) })
        {
            foreach (var (name, node) in metadata)
                Console.WriteLine($"{kind} '{name}': {node.ElementDataType} [{string.Join(", ", node.Dimensions.Select((d, i) => d < 0 ? node.SymbolicDimensions[i] is { Length: > 0 } s ? s : "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]");
        }
        return 0;
    }
}
