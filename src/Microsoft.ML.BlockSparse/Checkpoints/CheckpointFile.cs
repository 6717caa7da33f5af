using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Checkpoints;

/// <summary>
/// The checkpoint file format: one binary file, written to a temporary name and renamed into place.
/// </summary>
/// <remarks>
/// Layout, little-endian:
/// <code>
/// "BSCHKPT\n"  magic (8 bytes)
/// int32        format version (1)
/// int64        body length in bytes
/// body:        int32 + UTF-8 JSON of <see cref="CheckpointInfo"/>
///              int32 tensor count, then per tensor:
///                int32 + UTF-8 name, int32 dtype (TorchSharp ScalarType), int32 rank, int64[rank] shape,
///                int64 byte count, raw bytes (C order)
/// 32 bytes     SHA-256 of everything before it
/// </code>
/// The length in the header tells a truncated file from a corrupted one, and the checksum catches
/// any flipped byte, so a damaged checkpoint is refused before a single tensor is used.
/// </remarks>
internal static class CheckpointFile
{
    public const int Version = 1;
    private static readonly byte[] Magic = "BSCHKPT\n"u8.ToArray();
    private const int HeaderLength = 8 + 4 + 8;
    private const int HashLength = 32;

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    /// <summary>Writes <paramref name="checkpoint"/> to <paramref name="path"/> atomically: a reader sees the old file or the whole new one.</summary>
    public static void Write(string path, Checkpoint checkpoint)
    {
        using var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            WriteBlock(writer, JsonSerializer.SerializeToUtf8Bytes(checkpoint.Info, Json));
            writer.Write(checkpoint.Tensors.Count);
            foreach (var (name, tensor) in checkpoint.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                using var scope = NewDisposeScope();
                var cpu = tensor.detach().cpu().contiguous();
                WriteBlock(writer, Encoding.UTF8.GetBytes(name));
                writer.Write((int)cpu.dtype);
                writer.Write(cpu.shape.Length);
                foreach (var size in cpu.shape)
                    writer.Write(size);
                var bytes = cpu.bytes;
                writer.Write((long)bytes.Length);
                writer.Write(bytes);
            }
        }

        var temporary = path + ".tmp";
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var header = new byte[HeaderLength];
                Magic.CopyTo(header, 0);
                BitConverter.TryWriteBytes(header.AsSpan(8), Version);
                BitConverter.TryWriteBytes(header.AsSpan(12), body.Length);
                hash.AppendData(header);
                hash.AppendData(body.GetBuffer(), 0, (int)body.Length);
                file.Write(header);
                file.Write(body.GetBuffer(), 0, (int)body.Length);
                file.Write(hash.GetHashAndReset());
                // On disk before the rename, so a crash cannot leave a renamed but empty file.
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            // A full disk leaves a partly written (often empty) temporary file: it is of no use to anyone.
            // (A folder of that name is not ours to delete, and File.Exists is false for it.)
            if (File.Exists(temporary))
                File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Reads and verifies a checkpoint; the tensors are on the CPU.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated or corrupted, or of an unknown version.</exception>
    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Invalid(path, "is not a BlockSparse checkpoint (it does not start with the checkpoint signature)");
        if (bytes.Length < HeaderLength)
            throw Invalid(path, $"is truncated: it has {bytes.Length} bytes, fewer than the {HeaderLength}-byte header");
        int version = BitConverter.ToInt32(bytes, 8);
        if (version != Version)
            throw Invalid(path, $"has format version {version}; this library reads version {Version}");
        long bodyLength = BitConverter.ToInt64(bytes, 12);
        long expected = HeaderLength + bodyLength + HashLength;
        if (bodyLength < 0 || bytes.Length < expected)
            throw Invalid(path, $"is truncated: it has {bytes.Length} bytes, its header promises {expected}");
        if (bytes.Length > expected)
            throw Invalid(path, $"is corrupted: it has {bytes.Length - expected} bytes more than its header promises");
        var stored = bytes.AsSpan((int)(HeaderLength + bodyLength), HashLength);
        if (!SHA256.HashData(bytes.AsSpan(0, (int)(HeaderLength + bodyLength))).AsSpan().SequenceEqual(stored))
            throw Invalid(path, "is corrupted: its SHA-256 checksum does not match its content");

        try
        {
            return Parse(bytes.AsMemory(HeaderLength, (int)bodyLength), path);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or FormatException)
        {
            // The checksum matched, so the writer itself produced this: a bug or a foreign writer, not damage.
            throw new InvalidDataException($"Checkpoint '{path}' is malformed ({e.Message}).", e);
        }
    }

    private static Checkpoint Parse(ReadOnlyMemory<byte> body, string path)
    {
        using var stream = new MemoryStream(body.ToArray(), writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var info = JsonSerializer.Deserialize<CheckpointInfo>(ReadBlock(reader), Json)
            ?? throw new FormatException("its information block is empty");
        int count = reader.ReadInt32();
        if (count < 0)
            throw new FormatException($"it claims {count} tensors");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var name = Encoding.UTF8.GetString(ReadBlock(reader));
                var dtype = (ScalarType)reader.ReadInt32();
                if (!Enum.IsDefined(dtype))
                    throw new FormatException($"tensor '{name}' has unknown element type {(int)dtype}");
                int rank = reader.ReadInt32();
                if (rank is < 0 or > 16)
                    throw new FormatException($"tensor '{name}' claims {rank} dimensions");
                var shape = new long[rank];
                for (int d = 0; d < rank; d++)
                    shape[d] = reader.ReadInt64();
                long byteCount = reader.ReadInt64();
                var tensor = empty(shape, dtype);
                tensors.Add(name, tensor);
                if (shape.Any(s => s < 0) || byteCount != tensor.numel() * tensor.ElementSize)
                    throw new FormatException($"tensor '{name}' of shape [{string.Join(", ", shape)}] claims {byteCount} bytes");
                var data = reader.ReadBytes(checked((int)byteCount));
                if (data.Length != byteCount)
                    throw new EndOfStreamException($"tensor '{name}' ends early");
                tensor.bytes = data;
            }
            if (stream.Position != stream.Length)
                throw new FormatException("it has bytes after its last tensor");
        }
        catch
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
            throw;
        }
        return new Checkpoint(info, tensors, path);
    }

    private static void WriteBlock(BinaryWriter writer, byte[] block)
    {
        writer.Write(block.Length);
        writer.Write(block);
    }

    private static byte[] ReadBlock(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new FormatException($"a block claims {length} bytes");
        return reader.ReadBytes(length);
    }

    private static InvalidDataException Invalid(string path, string problem)
        => new($"Checkpoint '{path}' {problem}. {Alternative(path)}");

    // Says exactly which checkpoint to resume from instead: the newest earlier one beside it, if any.
    private static string Alternative(string path)
    {
        var full = Path.GetFullPath(path);
        var beside = new CheckpointStore(Path.GetDirectoryName(full)!).List();
        var self = beside.FirstOrDefault(c => c.Path == full);
        var earlier = beside.Where(c => c.Path != full && (self.Path is null || c.Epoch < self.Epoch)).LastOrDefault();
        return earlier.Path is { } before
            ? $"Resume from the checkpoint before it: set ResumeFrom to '{before}' (in the sample app: --resume-from {before} instead of --resume), or start a new run without ResumeFrom."
            : "Resume from another checkpoint (the directory keeps the last two) or start a new run without ResumeFrom.";
    }
}
