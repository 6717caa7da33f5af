using System.Globalization;

namespace Microsoft.ML.BlockSparse.Network;

/// <summary>The Vision Transformer's sizes, from the <c>Vit*</c> options.</summary>
internal sealed record VitShape(int PatchSize, int Dimension, int Depth, int Heads, int MlpRatio)
{
    /// <summary>Linear layers per encoder block: qkv, proj (attention output), fc1, fc2.</summary>
    public static readonly string[] BlockLayers = ["qkv", "proj", "fc1", "fc2"];

    /// <summary>Linear layers the planner sees, input side first: the patch embedding, four per block, the classifier.</summary>
    public static int FactorableLayers(int depth) => 2 + BlockLayers.Length * Math.Max(0, depth);

    public int MlpHidden => MlpRatio * Dimension;
    public int HeadDimension => Dimension / Heads;

    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"vit patch {PatchSize}, dim {Dimension}, depth {Depth}, heads {Heads}, mlp x{MlpRatio}");
}

/// <summary>
/// How a Vision Transformer's encoder will be built: its sizes, the image it cuts into patches, and one
/// <see cref="LayerPlan"/> per linear layer of the encoder (patch embedding, then each block's qkv, proj, fc1,
/// fc2). The classifier is the network's <see cref="NetworkPlan.Linear"/> layer, as an MLP's output layer.
/// </summary>
internal sealed record VitPlan(VitShape Shape, ImageShape Image, IReadOnlyList<LayerPlan> Encoder)
{
    /// <summary>Patches per image: the tokens every encoder layer reads.</summary>
    public int Tokens => Image.Height / Shape.PatchSize * (Image.Width / Shape.PatchSize);

    /// <summary>Values in one flattened patch, <c>C·P·P</c>.</summary>
    public int PatchLength => Image.Channels * Shape.PatchSize * Shape.PatchSize;

    /// <summary>The readable name of encoder layer <paramref name="index"/> (<c>patch</c>, <c>block0.qkv</c>, ...).</summary>
    public static string LayerName(int index)
        => index == 0 ? "patch" : $"block{(index - 1) / VitShape.BlockLayers.Length}.{VitShape.BlockLayers[(index - 1) % VitShape.BlockLayers.Length]}";

    /// <summary>The classifier's name in the report.</summary>
    public const string HeadName = "head";

    /// <summary>Every factorable layer with its name, in the order the per-layer options list them: the encoder's, then <paramref name="linear"/> (the classifier).</summary>
    public IReadOnlyList<(string Name, LayerPlan Plan)> AllLayers(IReadOnlyList<LayerPlan> linear)
        => Encoder.Select((p, i) => (LayerName(i), p)).Concat(linear.Select(p => (HeadName, p))).ToList();

    /// <summary>
    /// Plans the encoder's and the classifier's linear layers like an MLP's (<see cref="LayerPlan.KroneckerLayers"/>, then
    /// <see cref="LayerPlan.ForMethod"/>); the image must already be known to tile into patches.
    /// </summary>
    public static NetworkPlan Plan(ImageShape image, VitShape shape, int classes, PlanRequest request)
    {
        int d = shape.Dimension;
        var sizes = new List<(int In, int Out)> { (image.Channels * shape.PatchSize * shape.PatchSize, d) };
        for (int b = 0; b < shape.Depth; b++)
            sizes.AddRange([(d, 3 * d), (d, d), (d, shape.MlpHidden), (shape.MlpHidden, d)]);
        sizes.Add((d, classes));
        var layers = LayerPlan.ForMethod(LayerPlan.KroneckerLayers(sizes, request), request.Method);
        var vit = new VitPlan(shape, image, layers.Take(layers.Count - 1).ToList());
        return new NetworkPlan(NetworkArchitecture.VisionTransformer, image, [], [layers[^1]], vit);
    }
}
