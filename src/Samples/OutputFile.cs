namespace Samples;

/// <summary>
/// Writing an output file (model zip, JSON report, scores) without ever leaving a half-written file at the
/// target path, and never replacing a user's file without saying so.
/// </summary>
internal static class OutputFile
{
    /// <summary>
    /// Writes through <paramref name="writeTo"/> to <c>PATH.partial</c>, then renames it over <paramref name="path"/>;
    /// on any failure the temporary file is deleted and an earlier file at <paramref name="path"/> is untouched.
    /// A special file (under /dev or /proc, like <c>/dev/null</c> or <c>/dev/stdout</c>) is written directly:
    /// renaming over it would replace the device.
    /// </summary>
    /// <returns>The size of the written file in bytes.</returns>
    public static long Write(string path, Action<string> writeTo)
    {
        if (OutputTarget.IsSpecialFile(path))
        {
            writeTo(path);
            return 0;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".partial";
        bool replacing;
        try
        {
            writeTo(temporary);
            replacing = File.Exists(path);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            // Only a file this call wrote: a folder of that name is the user's.
            if (File.Exists(temporary))
                File.Delete(temporary);
            throw;
        }
        if (replacing)
            Console.WriteLine($"Replaced the existing file {path}.");
        return new FileInfo(path).Length;
    }
}
