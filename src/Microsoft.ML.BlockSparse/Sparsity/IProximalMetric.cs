using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Sparsity;

/// <summary>
/// What the proximal steps need from the optimiser: the per-coordinate metric it stepped in (Adam's
/// <c>√v̂+ε</c>), so a penalty's threshold is on the scale of the loss gradient. The optimiser implements
/// it; sparsity does not depend on the training loop.
/// </summary>
internal interface IProximalMetric
{
    /// <summary>The metric of <paramref name="parameter"/> after the last step, shaped like it.</summary>
    Tensor Metric(Parameter parameter);

    /// <summary>
    /// The values and metric of <paramref name="parameters"/> as one flat view each, when they lie next to
    /// each other in this order in the optimiser's buffer; false otherwise.
    /// </summary>
    bool TryContiguous(IReadOnlyList<Parameter> parameters, out Tensor values, out Tensor metric);
}
