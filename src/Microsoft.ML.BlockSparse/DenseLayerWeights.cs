namespace Microsoft.ML.BlockSparse;

/// <summary>
/// The weights of one trained dense layer, <c>y = W·x + b</c>, to start a BlockSparse network from
/// (<see cref="BlockSparseTrainer.Options.InitialWeights"/>).
/// </summary>
/// <param name="Weights"><c>W</c> row by row: <c>out × in</c> values, the row of output <c>o</c> first at <c>o·in</c>.</param>
/// <param name="Bias"><c>b</c>: <c>out</c> values.</param>
public sealed record DenseLayerWeights(float[] Weights, float[] Bias);
