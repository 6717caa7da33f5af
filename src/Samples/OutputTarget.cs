namespace Samples;

/// <summary>
/// Checks where a command will write before it does the long work (training, scoring), so a folder given
/// for a file, a folder that cannot be created, or a place that accepts no files is said at once, not
/// after an hour of training.
/// </summary>
internal static class OutputTarget
{
    /// <summary>A file the command will write: <paramref name="expected"/> completes "expected a file to write …".</summary>
    /// <exception cref="IOException">The target is a folder, its folder cannot be created, or accepts no new files.</exception>
    public static void File(string path, string option, string expected)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new IOException($"{option} '{path}' is a folder; expected a file to write {expected}.");
        if (IsSpecialFile(full))
            return;   // /dev/null and the like: written directly, nothing to create
        Writable(Path.GetDirectoryName(full)!, path, option);
    }

    /// <summary>A folder the command will write files into (created if missing).</summary>
    /// <exception cref="IOException">The target is a file, cannot be created, or accepts no new files.</exception>
    public static void Folder(string path, string option, string expected)
    {
        var full = Path.GetFullPath(path);
        if (System.IO.File.Exists(full))
            throw new IOException($"{option} '{path}' is a file; expected a folder for {expected}.");
        Writable(full, path, option);
    }

    /// <summary>True for an existing file under /dev or /proc (or a link to one), which is written in place.</summary>
    public static bool IsSpecialFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (!System.IO.File.Exists(full))
            return false;
        if (IsUnderSpecialFolder(full))
            return true;
        var target = new FileInfo(full).LinkTarget;
        return target is not null && IsUnderSpecialFolder(Path.GetFullPath(target, Path.GetDirectoryName(full)!));
    }

    private static bool IsUnderSpecialFolder(string full)
        => full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal);

    // The folder need not exist yet (it is created when the file is written): what must hold is that its
    // nearest existing ancestor is a folder that accepts a new file. Probed by creating and deleting one,
    // the only test that also holds for root, read-only mounts and /proc. Nothing is left behind.
    private static void Writable(string folder, string path, string option)
    {
        var existing = folder;
        while (!Directory.Exists(existing))
        {
            if (System.IO.File.Exists(existing))
                throw new IOException($"{option} '{path}' cannot be written: '{existing}' is a file, so the folder cannot be created there.");
            existing = Path.GetDirectoryName(existing)
                ?? throw new IOException($"{option} '{path}' cannot be written: none of its folders exists.");
        }
        var probe = Path.Combine(existing, $".blocksparse-probe-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{option} '{path}' cannot be written: the folder '{existing}' does not accept new files ({e.Message}).", e);
        }
    }
}
