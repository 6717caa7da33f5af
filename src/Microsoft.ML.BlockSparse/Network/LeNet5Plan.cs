namespace Microsoft.ML.BlockSparse.Network;

/// <summary>
/// Plans LeNet-5 for an image shape: conv 5x5 (padding 2) to 6 channels, ReLU, max pool 2; conv 5x5 to 16
/// channels, ReLU, max pool 2; flatten; linear 120, 84, classes. The linear layers are planned as an MLP's
/// (<see cref="LayerPlan.ForMlp(int, IReadOnlyList{int}, int, PlanRequest)"/>) on the flattened size.
/// </summary>
internal static class LeNet5Plan
{
    public const int Kernel = 5;
    public const int Pool = 2;
    public static readonly int[] ConvChannels = [6, 16];
    public static readonly int[] Hidden = [120, 84];

    /// <summary>Layers in order: two convolutions, then three linear layers.</summary>
    public const int LayerCount = 5;

    /// <summary>The smallest image side LeNet-5's stages leave at least one pixel of (the second convolution needs a 5x5 input).</summary>
    public const int MinimumSide = 12;

    /// <summary>
    /// The plan. <paramref name="request"/>'s per-layer shapes, if any, hold <see cref="LayerCount"/> entries:
    /// the convolutions' channel blocks (<c>m</c> output × <c>n</c> input channels), then the linear layers'.
    /// Its shared shape and candidate search apply to the linear layers only.
    /// </summary>
    public static NetworkPlan Plan(ImageShape image, int classes, PlanRequest request)
    {
        if (image.Height < MinimumSide || image.Width < MinimumSide)
        {
            throw new ArgumentOutOfRangeException(nameof(image),
                $"LeNet5 needs images of at least {MinimumSide}x{MinimumSide} pixels "
                + $"(two 5x5 convolutions and two 2x2 poolings); the image shape is {image}.");
        }
        var convolutions = new List<ConvPlan>();
        int channels = image.Channels;
        var size = (image.Height, image.Width);
        for (int i = 0; i < ConvChannels.Length; i++)
        {
            int padding = i == 0 ? 2 : 0;
            var stage = PlanConv(channels, ConvChannels[i], padding, size, request.PerLayerBlocks?[i], request, i);
            convolutions.Add(stage);
            channels = stage.OutChannels;
            size = stage.Output;
        }
        var linearRequest = request with { PerLayerBlocks = request.PerLayerBlocks?.Skip(ConvChannels.Length).ToList() };
        var linear = LayerPlan.ForMlp(convolutions[^1].OutputLength, Hidden, classes, linearRequest);
        return new NetworkPlan(NetworkArchitecture.LeNet5, image, convolutions, linear);
    }

    private static ConvPlan PlanConv(int inChannels, int outChannels, int padding, (int Height, int Width) input, BlockShape? requested,
        PlanRequest request, int index)
    {
        var kernel = (Kernel, Kernel);
        var output = ConvCost.OutputSize(input, kernel, 1, padding);
        ConvPlan Dense(string reason) => new(inChannels, outChannels, Kernel, padding, input, null, 0, reason, Pool);
        switch (request.Method)
        {
            case BlockSparseMethod.Dense:
                return Dense("Method is Dense");
            case BlockSparseMethod.GroupLasso:
                return Dense("Method is GroupLasso: its penalty covers the linear layers, convolutions train dense");
        }
        if (requested is { } block)
        {
            if (!block.Divides(inChannels, outChannels))
            {
                throw new ArgumentOutOfRangeException(nameof(request),
                    $"Block shape {block} does not tile LeNet5's convolution {index} "
                    + $"({outChannels} output x {inChannels} input channels): the block rows must divide {outChannels} and the columns {inChannels}.");
            }
            return new ConvPlan(inChannels, outChannels, Kernel, padding, input, block, request.Rank, null, Pool);
        }
        return ConvBlockShapes.Cheapest(inChannels, outChannels, kernel, output, request.Rank) is { } cheapest
            ? new ConvPlan(inChannels, outChannels, Kernel, padding, input, cheapest, request.Rank, null, Pool)
            : Dense($"at rank {request.Rank} no channel block of a {outChannels}x{inChannels}x{Kernel}x{Kernel} kernel saves both parameters and FLOPs");
    }
}
