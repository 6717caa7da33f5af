using Onnx;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A layer that writes itself into an ONNX graph, for one row (no batch dimension): the exporter calls this
/// and never looks at the concrete layer type, so a new layer kind brings its own nodes with it.
/// </summary>
internal interface IOnnxLayer
{
    /// <summary>Adds the layer's nodes and initialisers (named <c>PREFIX.*</c>) to <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph to extend.</param>
    /// <param name="input">Name of the layer's input value in the graph.</param>
    /// <param name="prefix">Prefix of every node and initialiser name, unique in the graph.</param>
    /// <returns>The name of the layer's output value.</returns>
    string AddOnnxNodes(GraphProto graph, string input, string prefix);
}
