namespace Microsoft.ML.BlockSparse;

/// <summary>How <see cref="BlockSparseTrainer"/> trains the network's layers.</summary>
public enum BlockSparseMethod
{
    /// <summary>
    /// Kronecker-factored layers (docs/method.md): only the small factors are trained, λ1 on the block gates
    /// makes blocks exactly zero, λ2 chooses among candidate block shapes. The default.
    /// </summary>
    Kronecker = 0,

    /// <summary>Plain dense layers, no penalty: the reference the others are measured against.</summary>
    Dense = 1,

    /// <summary>
    /// Dense layers trained with the group-lasso penalty <c>λ·Σ_blocks ‖W_block‖_F</c> over blocks of the
    /// Kronecker block shape, then blocks under a threshold pruned: the usual way to reach block sparsity,
    /// paying for the whole dense layer during training.
    /// </summary>
    GroupLasso = 2,
}
