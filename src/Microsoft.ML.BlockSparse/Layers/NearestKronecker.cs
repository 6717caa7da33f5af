using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// The nearest Kronecker product of rank <c>r</c> to a dense weight (Van Loan and Pitsianis, docs/method.md):
/// rearrange <c>W</c> so that each <c>m × n</c> block becomes one row of a <c>p·q × m·n</c> matrix, whose
/// best rank-<c>r</c> approximation (the leading singular vectors) gives <c>A_i</c> and <c>B_i</c>.
/// </summary>
internal static class NearestKronecker
{
    /// <summary>
    /// <c>A</c> (<c>r × p × q</c>) and <c>B</c> (<c>r × m × n</c>) with <c>Σ_i A_i ⊗ B_i</c> closest to
    /// <paramref name="weight"/> in the Frobenius norm; each singular value is split evenly between the
    /// two factors so that neither dwarfs the other (Adam then moves both at the same relative pace).
    /// </summary>
    public static (Tensor Left, Tensor Right) Factor(Tensor weight, BlockShape block, int rank)
    {
        using var scope = NewDisposeScope();
        int m = block.Rows, n = block.Columns;
        int p = (int)weight.shape[0] / m, q = (int)weight.shape[1] / n;
        var rearranged = weight.to_type(ScalarType.Float64).reshape(p, m, q, n).permute(0, 2, 1, 3).reshape(p * q, m * n);
        var (u, s, vh) = linalg.svd(rearranged, fullMatrices: false);
        int kept = Math.Min(rank, (int)s.shape[0]);
        var root = s.narrow(0, 0, kept).sqrt();
        var left = zeros(rank, p * q, dtype: ScalarType.Float64);
        var right = zeros(rank, m * n, dtype: ScalarType.Float64);
        left.narrow(0, 0, kept).copy_(u.narrow(1, 0, kept).t().mul(root.unsqueeze(1)));
        right.narrow(0, 0, kept).copy_(vh.narrow(0, 0, kept).mul(root.unsqueeze(1)));
        return (left.reshape(rank, p, q).to_type(weight.dtype).MoveToOuterDisposeScope(),
            right.reshape(rank, m, n).to_type(weight.dtype).MoveToOuterDisposeScope());
    }
}
