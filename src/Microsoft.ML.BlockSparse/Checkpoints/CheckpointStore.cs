using System.Globalization;
using System.Text.RegularExpressions;

namespace Microsoft.ML.BlockSparse.Checkpoints;

/// <summary>
/// A directory of checkpoints of one run: <c>epoch-0001.bscheckpoint</c>, … written after every epoch,
/// the last two kept (the newest may be the one being written when the machine dies).
/// </summary>
internal sealed partial class CheckpointStore
{
    public const string Extension = ".bscheckpoint";
    private const int Keep = 2;

    public CheckpointStore(string directory)
    {
        // Without a trailing separator, so "ck/" and "ck" are the same directory when a resume is matched to it.
        Directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
    }

    public string Directory { get; }

    public string PathFor(int completedEpochs)
        => Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"epoch-{completedEpochs:D4}{Extension}"));

    /// <summary>The checkpoints in the directory, oldest first (by epoch number); none if the directory does not exist.</summary>
    public IReadOnlyList<(int Epoch, string Path)> List()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        return System.IO.Directory.EnumerateFiles(Directory, "epoch-*" + Extension)
            .Select(p => (Match: FileName().Match(Path.GetFileName(p)), Path: p))
            .Where(f => f.Match.Success)
            .Select(f => (int.Parse(f.Match.Groups[1].Value, CultureInfo.InvariantCulture), f.Path))
            .OrderBy(f => f.Item1)
            .ToList();
    }

    /// <summary>
    /// Writes the checkpoint of <see cref="CheckpointInfo.CompletedEpochs"/>, then keeps only it and the
    /// one before it. Checkpoints of later epochs can only be left over from before a resume from an
    /// earlier one: that future was abandoned, and they go too, so the newest file is always this run's.
    /// </summary>
    public string Save(Checkpoint checkpoint)
    {
        System.IO.Directory.CreateDirectory(Directory);
        int epoch = checkpoint.Info.CompletedEpochs;
        var path = PathFor(epoch);
        try
        {
            CheckpointFile.Write(path, checkpoint);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(epoch, path, e);
        }
        var kept = List().Where(c => c.Epoch <= epoch).TakeLast(Keep).Select(c => c.Path).ToHashSet();
        foreach (var (_, other) in List())
        {
            if (!kept.Contains(other))
                File.Delete(other);
        }
        return path;
    }

    // One line: which checkpoint could not be written, why, that nothing half-written is left, and where
    // the run can continue from.
    private IOException WriteFailed(int epoch, string path, Exception e)
    {
        var earlier = List().Where(c => c.Epoch < epoch).Select(c => c.Path).LastOrDefault();
        var resume = earlier is null
            ? "No earlier checkpoint of this run exists."
            : $"The earlier checkpoint {Path.GetFileName(earlier)} is intact: set ResumeFrom to '{earlier}' to continue from it "
              + $"(in the sample app: --checkpoint {Directory} --resume-from {earlier}) once the problem is fixed.";
        return new IOException(
            $"Could not write the checkpoint of epoch {epoch} to '{path}' ({e.Message.ReplaceLineEndings(" ")}); its temporary file was removed. {resume}", e);
    }

    [GeneratedRegex(@"^epoch-(\d{4,9})\.bscheckpoint$")]
    private static partial Regex FileName();
}
