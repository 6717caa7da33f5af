using Microsoft.ML.BlockSparse.Run;

namespace Microsoft.ML.BlockSparse.Checkpoints;

/// <summary>
/// Where a run's checkpoints come from and go to, checked before any data is read: the one place below the
/// run description that reads its checkpoint options, so its messages name them.
/// </summary>
internal static class CheckpointTarget
{
    /// <summary>The checkpoint <see cref="RunDescription.ResumeFrom"/> names, read and verified; null without one.</summary>
    public static Checkpoint? OpenResume(RunDescription run)
        => run.ResumeFrom is { } resumeFrom ? CheckpointFile.Read(Resolve(resumeFrom)) : null;

    /// <summary>
    /// Where this run's checkpoints go. A directory that already holds checkpoints is only written to
    /// when this run continues one of them: otherwise they belong to another run, and replacing them
    /// silently could destroy the only copy of hours of training.
    /// </summary>
    public static CheckpointStore? For(RunDescription run, Checkpoint? resume)
    {
        if (run.CheckpointDirectory is not { } directory)
            return null;
        var store = new CheckpointStore(directory);
        var existing = store.List();
        bool continuesThisDirectory = resume?.Path is { } path
            && string.Equals(Path.GetDirectoryName(path), store.Directory, StringComparison.Ordinal);
        if (existing.Count > 0 && !continuesThisDirectory)
        {
            throw new InvalidOperationException(
                $"BlockSparseTrainer.Options.CheckpointDirectory '{store.Directory}' already holds checkpoints "
                + $"({string.Join(", ", existing.Select(c => Path.GetFileName(c.Path)))}) of another run. Set ResumeFrom to that directory "
                + "to continue that run, or choose an empty directory for a new one; existing checkpoints are never replaced silently.");
        }
        return store;
    }

    /// <summary>
    /// The checkpoint file <paramref name="resumeFrom"/> names: the file itself, or the newest
    /// checkpoint of a directory.
    /// </summary>
    private static string Resolve(string resumeFrom)
    {
        if (File.Exists(resumeFrom))
            return Path.GetFullPath(resumeFrom);
        if (!System.IO.Directory.Exists(resumeFrom))
        {
            throw new FileNotFoundException(
                $"BlockSparseTrainer.Options.ResumeFrom is '{resumeFrom}', which is neither a checkpoint file nor a directory.", resumeFrom);
        }
        var newest = new CheckpointStore(resumeFrom).List().LastOrDefault();
        return newest.Path ?? throw new FileNotFoundException(
            $"BlockSparseTrainer.Options.ResumeFrom is the directory '{resumeFrom}', which holds no checkpoint (epoch-NNNN{CheckpointStore.Extension}). "
            + "Train with CheckpointDirectory set to write some, or leave ResumeFrom null to start a new run.", resumeFrom);
    }
}
