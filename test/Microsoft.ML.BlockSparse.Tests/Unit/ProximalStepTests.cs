using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class ProximalStepTests
{
    [Fact]
    public void SoftThresholdShrinksTowardZeroAndStopsAtExactlyZero()
    {
        using var values = tensor(new[] { -0.5f, 0.05f, 0.2f, -0.08f, 0f });
        using var tau = tensor(0.1f);
        SoftThreshold.Apply(values, tau);
        Assert.Equal(new[] { -0.4f, 0f, 0.1f, 0f, 0f }, values.data<float>().ToArray(), new FloatTolerance(1e-6f));
    }

    [Fact]
    public void ProximalAdamZeroesTheBlocksATargetDoesNotUse()
    {
        // Regression onto a weight whose blocks in the left half are zero: those gates get no lasting
        // gradient, so the L1 prox must drive them to exactly zero, while the used blocks survive.
        using var scope = NewDisposeScope();
        using var generator = new Generator(42);
        var block = new BlockShape(2, 3);
        var layer = new KroneckerLinear("x", 12, 8, block, 1, generator);  // p = 4, q = 4
        var usedGroups = tensor(new float[] { 0, 0, 1, 1 });
        // Used blocks have |gate| in [1, 2], so none of them is legitimately near zero.
        using var half = Scalars.Of(0.5);
        var signs = rand([4, 4], generator: generator).gt(half).to_type(ScalarType.Float32).mul(Scalars.Two).add(Scalars.MinusOne, Scalars.One);
        var truthGates = rand([4, 4], generator: generator).add(Scalars.One, Scalars.One).mul(signs).mul(usedGroups);
        var truth = kron(truthGates, randn([2, 3], generator: generator));
        using var optimizer = new ProximalAdam(layer.parameters());

        for (int step = 0; step < 600; step++)
        {
            using var stepScope = NewDisposeScope();
            var x = randn([64, 12], generator: generator);
            var loss = layer.call(x).sub(x.matmul(truth.t())).pow(Scalars.Two).mean();
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step(0.01);
            ProximalPenalties.GateL1(layer.LiveCandidates, optimizer, 0.01, 0.05);
        }

        var gate = layer.Gate.detach();
        Assert.Equal(0, gate[TensorIndex.Colon, TensorIndex.Slice(0, 2)].abs().sum().item<float>());
        Assert.Equal(8, gate[TensorIndex.Colon, TensorIndex.Slice(2, 4)].ne(Scalars.Zero).sum().item<long>());
        Assert.Equal(8, layer.Single.ZeroBlocks());
    }

    [Fact]
    public void HardPruningKeepsRemovedBlocksAtZero()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(1);
        var layer = new KroneckerLinear("x", 12, 8, new BlockShape(2, 3), 1, generator);
        using (no_grad())
            layer.Gate.copy_(tensor(new float[] { 0.0005f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -0.0002f }).reshape(4, 4));

        layer.Single.PruneGatesBelow(1e-3);
        Assert.Equal(2, layer.Single.ZeroBlocks());

        using (no_grad())
        using (var half = Scalars.Of(0.5))
            layer.Gate.add_(half, Scalars.One);   // an optimiser step moves every gate...
        layer.Single.ApplyGateMask();      // ...and the mask puts pruned ones back to zero
        Assert.Equal(2, layer.Single.ZeroBlocks());
    }

    [Fact]
    public void PenaltyScheduleRisesEveryKEpochs()
    {
        var schedule = new PenaltySchedule(0.01, 0.002, 5);
        Assert.Equal(0.01, schedule.At(0), 12);
        Assert.Equal(0.01, schedule.At(4), 12);
        Assert.Equal(0.012, schedule.At(5), 12);
        Assert.Equal(0.016, schedule.At(19), 12);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
