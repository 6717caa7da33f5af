using Microsoft.ML.BlockSparse.Run;
using Microsoft.ML.BlockSparse.Training;

namespace Microsoft.ML.BlockSparse;

public sealed partial class BlockSparseTrainer
{
    /// <summary>The checkpoint <see cref="Options.ResumeFrom"/> names, read and verified; null without one.</summary>
    private static Checkpoint? OpenResumeCheckpoint(RunDescription run)
        => run.ResumeFrom is { } resumeFrom ? CheckpointFile.Read(CheckpointStore.Resolve(resumeFrom)) : null;

    /// <summary>
    /// Where this run's checkpoints go. A directory that already holds checkpoints is only written to
    /// when this run continues one of them: otherwise they belong to another run, and replacing them
    /// silently could destroy the only copy of hours of training.
    /// </summary>
    private static CheckpointStore? CheckpointTarget(RunDescription run, Checkpoint? resume)
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
}
