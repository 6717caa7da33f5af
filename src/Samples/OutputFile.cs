namespace Samples;

/// <summary>
/// Writing an output file (model zip, JSON report) without ever leaving a half-written file at the
/// target path, and never replacing a user's file without saying so.
/// </summary>
internal static class OutputFile
{
    /// <returns>The size of the written file in bytes.</returns>
    public static long Write(string path, Action<string> writeTo)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".partial";
        try
        {
            writeTo(temporary);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        bool replacing = File.Exists(path);
        File.Move(temporary, path, overwrite: true);
        if (replacing)
            Console.WriteLine($"Replaced the existing file {path}.");
        return new FileInfo(path).Length;
    }
}
