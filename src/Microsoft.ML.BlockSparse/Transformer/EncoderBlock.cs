using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Transformer;

/// <summary>
/// One pre-norm encoder block: <c>x + proj(attention(norm1(x)))</c>, then <c>x + fc2(gelu(fc1(norm2(x))))</c>.
/// The four linear layers are the planned ones (factored or dense); the LayerNorms are dense.
/// </summary>
internal sealed class EncoderBlock : nn.Module<Tensor, Tensor>
{
    // Field names become parameter names (block0.qkv.candidate0.gate, ...), as the report names the layers.
    private readonly LayerNorm norm1;
    private readonly nn.Module<Tensor, Tensor> qkv;
    private readonly nn.Module<Tensor, Tensor> proj;
    private readonly LayerNorm norm2;
    private readonly nn.Module<Tensor, Tensor> fc1;
    private readonly nn.Module<Tensor, Tensor> fc2;
    private readonly double scale;

    /// <summary>LayerNorm's ε, as PyTorch's default; the ONNX export uses the same.</summary>
    public const double NormEpsilon = 1e-5;

    /// <param name="name">The module's name.</param>
    /// <param name="shape">The transformer's sizes.</param>
    /// <param name="plans">The plans of qkv, proj, fc1 and fc2, in that order.</param>
    /// <param name="generator">The generator every initialisation draws from.</param>
    public EncoderBlock(string name, VitShape shape, IReadOnlyList<LayerPlan> plans, Generator generator)
        : base(name)
    {
        Shape = shape;
        norm1 = nn.LayerNorm(shape.Dimension, NormEpsilon);
        qkv = TokenLinear.Build("qkv", plans[0], generator);
        proj = TokenLinear.Build("proj", plans[1], generator);
        norm2 = nn.LayerNorm(shape.Dimension, NormEpsilon);
        fc1 = TokenLinear.Build("fc1", plans[2], generator);
        fc2 = TokenLinear.Build("fc2", plans[3], generator);
        scale = 1.0 / Math.Sqrt(shape.HeadDimension);
        RegisterComponents();
    }

    public VitShape Shape { get; }

    /// <summary>qkv, proj, fc1, fc2: the block's linear layers, in the order the report and the options list them.</summary>
    public IReadOnlyList<IBlockSparseLayer> Layers => [(IBlockSparseLayer)qkv, (IBlockSparseLayer)proj, (IBlockSparseLayer)fc1, (IBlockSparseLayer)fc2];

    public LayerNorm Norm1 => norm1;
    public LayerNorm Norm2 => norm2;

    /// <summary>The scale of the attention scores, <c>1/√(head dimension)</c>.</summary>
    public double Scale => scale;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x.add(TokenLinear.Apply(proj, Attention(norm1.call(x))), Scalars.One);
        var hidden = Gelu(TokenLinear.Apply(fc1, norm2.call(x)));
        x = x.add(TokenLinear.Apply(fc2, hidden), Scalars.One);
        return x.MoveToOuterDisposeScope();
    }

    // Multi-head self-attention without its output projection: [N, T, d] -> [N, T, d].
    private Tensor Attention(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], t = x.shape[1];
        int heads = Shape.Heads, headDim = Shape.HeadDimension;
        // [N, T, 3·d] -> [3, N, heads, T, headDim]: q, k and v of every head.
        var parts = TokenLinear.Apply(qkv, x).view(n, t, 3, heads, headDim).permute(2, 0, 3, 1, 4);
        using var s = Scalars.Of(scale);
        var scores = parts[0].matmul(parts[1].transpose(-2, -1)).mul_(s);
        var attended = scores.softmax(-1).matmul(parts[2]);                    // [N, heads, T, headDim]
        return attended.transpose(1, 2).reshape(n, t, Shape.Dimension).MoveToOuterDisposeScope();
    }

    /// <summary>The exact GELU, <c>x·Φ(x)</c> (erf form, as the ONNX export writes it).</summary>
    public static Tensor Gelu(Tensor x) => nn.functional.gelu(x);
}
