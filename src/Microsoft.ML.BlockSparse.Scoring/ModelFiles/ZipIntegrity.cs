using System.IO.Compression;

namespace Microsoft.ML.BlockSparse.ModelFiles;

/// <summary>
/// Checks that every entry of a model zip is complete and still has the content it was saved with.
/// </summary>
/// <remarks>
/// .NET 10's <see cref="ZipArchive"/> reads the CRC-32 the zip stores for each entry but never compares
/// it with the data (CRC validation on read arrives in .NET 11). A flipped bit inside a deflated entry
/// usually still inflates, to other bytes: in the ONNX entry that means other weights and other scores,
/// silently. So the checksums are computed here, over every entry, before ML.NET sees the file.
/// </remarks>
internal static class ZipIntegrity
{
    /// <exception cref="InvalidDataException">The file is not a complete zip, or an entry's data does not match its CRC-32.</exception>
    public static void Check(string path)
    {
        string? damagedEntry = null;
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var buffer = new byte[81920];
            foreach (var entry in archive.Entries)
            {
                var crc = new Crc32();
                long length = 0;
                using var content = entry.Open();
                int read;
                while ((read = content.Read(buffer)) > 0)
                {
                    crc.Append(buffer.AsSpan(0, read));
                    length += read;
                }
                if (crc.Value != entry.Crc32 || length != entry.Length)
                {
                    damagedEntry = entry.FullName;
                    break;
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(
                $"Model file '{path}' is not a complete zip archive ({e.Message}). It may have been truncated by an interrupted "
                + "copy or download; expected a zip written by mlContext.Model.Save.", e);
        }
        if (damagedEntry is not null)
        {
            throw new InvalidDataException(
                $"Model file '{path}' is corrupted: its entry '{damagedEntry}' does not match the CRC-32 checksum the zip stores for it, "
                + "so its bytes changed after it was saved (a damaged disk, copy or download). Copy or save the model again; "
                + "expected a zip written by mlContext.Model.Save.");
        }
    }
}
