namespace Microsoft.ML.BlockSparse.ModelFiles;

/// <summary>
/// The CRC-32 of the zip format (IEEE 802.3, reflected polynomial 0xEDB88320), so saved models can be
/// checked against the checksums their zip stores without another package.
/// </summary>
internal sealed class Crc32
{
    private static readonly uint[] Table = BuildTable();
    private uint state = 0xFFFFFFFFu;

    public uint Value => ~state;

    public void Append(ReadOnlySpan<byte> data)
    {
        uint crc = state;
        foreach (var b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        state = crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
