using Microsoft.ML.BlockSparse.Reporting;
using Microsoft.ML.BlockSparse.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Layers;

/// <summary>
/// A plain 2-D convolution: where factoring the channels would not be cheaper (the report says why), and
/// for the <see cref="BlockSparseMethod.Dense"/> and <see cref="BlockSparseMethod.GroupLasso"/> baselines.
/// </summary>
internal sealed partial class DenseConv2d : nn.Module<Tensor, Tensor>, IConvolutionLayer
{
    private readonly Parameter weight;  // Cout × Cin × kh × kw
    private readonly Parameter bias;    // Cout

    public DenseConv2d(string name, int inChannels, int outChannels, (int Height, int Width) kernel, (int Height, int Width) input,
        string reason, Generator generator, int stride = 1, int padding = 0)
        : base(name)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        Input = input;
        Output = ConvCost.OutputSize(input, kernel, stride, padding);
        Reason = reason;
        // Variance 1/fan-in, as DenseLinear and the factored layers start.
        long fanIn = (long)inChannels * kernel.Height * kernel.Width;
        using (var std = Scalars.Of(1.0 / Math.Sqrt(fanIn)))
            weight = new Parameter(randn([outChannels, inChannels, kernel.Height, kernel.Width], generator: generator).mul_(std));
        bias = new Parameter(zeros(outChannels));
        RegisterComponents();
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int Height, int Width) Kernel { get; }
    public int Stride { get; }
    public int Padding { get; }
    public (int Height, int Width) Input { get; }
    public (int Height, int Width) Output { get; }

    /// <summary>Why this convolution is dense, for the report.</summary>
    public string Reason { get; }

    public Parameter Weight => weight;
    public Tensor Bias => bias;

    public override Tensor forward(Tensor input)
        => nn.functional.conv2d(input, weight, bias, strides: [Stride, Stride], padding: [Padding, Padding]);

    public Tensor MaterializeKernel()
    {
        using var detached = weight.detach();
        return detached.clone();
    }

    public LayerSparsity Describe(int index)
    {
        long dense = ConvCost.DenseForwardFlops(InChannels, OutChannels, Kernel, Output);
        long parameters = ConvCost.DenseParameters(InChannels, OutChannels, Kernel);
        return new LayerSparsity
        {
            Index = index,
            InFeatures = InChannels * Input.Height * Input.Width,
            OutFeatures = OutChannels * Output.Height * Output.Width,
            Factored = false,
            DenseReason = Reason,
            Rank = 0,
            TrainableParameters = parameters,
            DenseParameters = parameters,
            TrainingFlopsPerExample = 3 * dense,
            DenseTrainingFlopsPerExample = 3 * dense,
            InferenceFlopsPerExample = dense,
            DenseInferenceFlopsPerExample = dense,
        };
    }
}
