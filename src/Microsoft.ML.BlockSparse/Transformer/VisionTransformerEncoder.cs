using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Transformer;

/// <summary>
/// A Vision Transformer's encoder, flat image in, one vector per image out (<c>[N, C·H·W]</c> to <c>[N, d]</c>):
/// the image cut into <c>P×P</c> patches, each flattened (channel, row, column) and embedded by the patch layer,
/// plus a learned position embedding; the encoder blocks; a final LayerNorm; the mean over the tokens.
/// </summary>
/// <remarks>
/// Mean pooling rather than a class token: it needs no extra token (so every encoder layer reads exactly the
/// patches, and the cost per example is tokens × the layer's), and on small images it trains as well or better.
/// </remarks>
internal sealed class VisionTransformerEncoder : nn.Module<Tensor, Tensor>
{
    // Field names become parameter names (patch.candidate0.gate, position, blocks.0.qkv..., norm.weight).
    private readonly nn.Module<Tensor, Tensor> patch;
    private readonly Parameter position;     // [T, d]
    private readonly ModuleList<EncoderBlock> blocks;
    private readonly LayerNorm norm;

    public VisionTransformerEncoder(string name, VitPlan plan, Generator generator)
        : base(name)
    {
        Plan = plan;
        var shape = plan.Shape;
        patch = TokenLinear.Build("patch", plan.Encoder[0], generator);
        using (var std = Scalars.Of(0.02))
            position = new Parameter(randn([plan.Tokens, shape.Dimension], generator: generator).mul_(std));
        int perBlock = VitShape.BlockLayers.Length;
        blocks = new ModuleList<EncoderBlock>(Enumerable.Range(0, shape.Depth)
            .Select(b => new EncoderBlock($"block{b}", shape, plan.Encoder.Skip(1 + b * perBlock).Take(perBlock).ToList(), generator)).ToArray());
        norm = nn.LayerNorm(shape.Dimension, EncoderBlock.NormEpsilon);
        RegisterComponents();
    }

    public VitPlan Plan { get; }

    public Tensor Position => position;
    public IReadOnlyList<EncoderBlock> Blocks => blocks.ToList();
    public LayerNorm Norm => norm;

    /// <summary>Every linear layer of the encoder with its readable name, patch embedding first.</summary>
    public IReadOnlyList<(string Name, IBlockSparseLayer Layer)> NamedLayers
        => new[] { ("patch", (IBlockSparseLayer)patch) }
            .Concat(blocks.SelectMany((b, i) => b.Layers.Select((l, j) => ($"block{i}.{VitShape.BlockLayers[j]}", l)))).ToList();

    /// <summary>The dense parts' parameters: position embedding and every LayerNorm (the linear layers' biases are theirs).</summary>
    public long DenseParameters
        => position.numel() + norm.parameters().Sum(p => p.numel()) + blocks.Sum(b => b.Norm1.parameters().Concat(b.Norm2.parameters()).Sum(p => p.numel()));

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = TokenLinear.Apply(patch, Patches(input)).add(position, Scalars.One);
        foreach (var block in blocks)
            x = block.call(x);
        return norm.call(x).mean([1]).MoveToOuterDisposeScope();
    }

    /// <summary><c>[N, C·H·W]</c> to <c>[N, T, C·P·P]</c>: patches row by row, each flattened channel, row, column.</summary>
    public Tensor Patches(Tensor input)
    {
        var image = Plan.Image;
        int p = Plan.Shape.PatchSize;
        long n = input.shape[0];
        using var scope = NewDisposeScope();
        var patches = input.reshape(n, image.Channels, image.Height / p, p, image.Width / p, p)
            .permute(0, 2, 4, 1, 3, 5)
            .reshape(n, Plan.Tokens, Plan.PatchLength);
        return patches.MoveToOuterDisposeScope();
    }
}
