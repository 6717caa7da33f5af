using Microsoft.ML;

namespace Samples;

/// <summary>Saving a model zip without ever leaving a half-written file at the target path.</summary>
internal static class ModelFile
{
    public static long Save(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".partial";
        mlContext.Model.Save(model, inputSchema, temporary);
        bool replacing = File.Exists(path);
        File.Move(temporary, path, overwrite: true);
        if (replacing)
            Console.WriteLine($"Replaced the existing file {path}.");
        return new FileInfo(path).Length;
    }
}
