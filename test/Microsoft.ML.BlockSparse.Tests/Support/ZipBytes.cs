using System.Buffers.Binary;
using System.Text;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Where an entry's data lies in a zip file's bytes, read from the central directory and the local
/// header, so a test can damage exactly that data (ZipArchive exposes no offsets).
/// </summary>
internal static class ZipBytes
{
    public sealed record Entry(string Name, int Method, long DataOffset, long CompressedLength);

    public static IReadOnlyList<Entry> Entries(byte[] zip)
    {
        int end = zip.Length - 22;
        while (end >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)) != 0x06054b50)
            end--;
        if (end < 0)
            throw new InvalidDataException("no end of central directory record");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int position = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        var entries = new List<Entry>();
        for (int i = 0; i < count; i++)
        {
            var record = zip.AsSpan(position);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(record[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(record[32..]);
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(record[42..]);
            var name = Encoding.UTF8.GetString(record.Slice(46, nameLength));
            var header = zip.AsSpan(local);
            long data = local + 30 + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            entries.Add(new Entry(name, method, data, compressed));
            position += 46 + nameLength + extraLength + commentLength;
        }
        return entries;
    }
}
