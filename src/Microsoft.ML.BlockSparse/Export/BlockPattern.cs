using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Export;

/// <summary>
/// Where a factored layer's gates are non-zero, read once on the host for export: the live input groups
/// (columns of <c>S</c> with a non-zero gate), the live output groups (rows), and each non-zero block with
/// its mixing coefficients <c>S[a,b]·A_i[a,b]</c>. A block counts as zero exactly when its gate is zero, as
/// in the report's inference FLOPs (<see cref="LayerCost.FactoredInferenceFlops"/>).
/// </summary>
internal sealed class BlockPattern
{
    private BlockPattern(int gridRows, int gridColumns, int rank, int[] liveRows, int[] liveColumns, (int Row, int Column)[] blocks, float[] coefficients)
    {
        GridRows = gridRows;
        GridColumns = gridColumns;
        Rank = rank;
        LiveRows = liveRows;
        LiveColumns = liveColumns;
        Blocks = blocks;
        Coefficients = coefficients;
    }

    public int GridRows { get; }
    public int GridColumns { get; }
    public int Rank { get; }

    /// <summary>Output groups with at least one non-zero block, ascending.</summary>
    public int[] LiveRows { get; }

    /// <summary>Input groups with at least one non-zero block, ascending: the only groups inference projects.</summary>
    public int[] LiveColumns { get; }

    /// <summary>The non-zero blocks, row-major.</summary>
    public (int Row, int Column)[] Blocks { get; }

    /// <summary><c>S[a,b]·A_i[a,b]</c> for each block of <see cref="Blocks"/> and rank <c>i</c>, block-major.</summary>
    public float[] Coefficients { get; }

    /// <summary>True when every live output group reads every live input group: the compacted mixing is a full matrix.</summary>
    public bool IsFullOnLiveGroups => Blocks.Length == LiveRows.Length * LiveColumns.Length;

    /// <param name="gate"><c>S</c>, <c>p × q</c>.</param>
    /// <param name="left"><c>A</c>, <c>r × p × q</c>.</param>
    public static BlockPattern Read(Tensor gate, Tensor left)
    {
        using var scope = NewDisposeScope();
        int p = (int)gate.shape[0], q = (int)gate.shape[1], r = (int)left.shape[0];
        var s = gate.detach().to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var a = left.detach().to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var blocks = new List<(int, int)>();
        var coefficients = new List<float>();
        var rowLive = new bool[p];
        var columnLive = new bool[q];
        for (int row = 0; row < p; row++)
        {
            for (int column = 0; column < q; column++)
            {
                float g = s[row * q + column];
                if (g == 0)
                    continue;
                rowLive[row] = columnLive[column] = true;
                blocks.Add((row, column));
                for (int i = 0; i < r; i++)
                    coefficients.Add(g * a[(i * p + row) * q + column]);
            }
        }
        return new BlockPattern(p, q, r,
            Enumerable.Range(0, p).Where(i => rowLive[i]).ToArray(),
            Enumerable.Range(0, q).Where(i => columnLive[i]).ToArray(),
            blocks.ToArray(), coefficients.ToArray());
    }
}
