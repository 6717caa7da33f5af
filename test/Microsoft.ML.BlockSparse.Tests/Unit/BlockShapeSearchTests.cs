using System.Globalization;
using Microsoft.ML.BlockSparse.Layers;
using Microsoft.ML;
using Microsoft.ML.BlockSparse.Network;
using Microsoft.ML.BlockSparse.Sparsity;
using Microsoft.ML.BlockSparse.Torch;
using Microsoft.ML.BlockSparse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.BlockSparse.Tests;

public class BlockShapeSearchTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(23)]
    public void Lambda2KeepsOnlyTheCandidateWithTheTrueBlockShape(int seed)
    {
        // The true weight is block-sparse with 4x4 blocks (a rank-1 Kronecker product, half its blocks
        // zero). At rank 1 only the 4x4 candidate can represent it: the 2x2 and 8x8 tilings would need
        // more ranks. λ2 must retire both of them and leave the right one.
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed);
        using var half = Scalars.Of(0.5);
        var truthGates = randn([4, 8], generator: generator).mul(rand([4, 8], generator: generator).gt(half));
        var truth = kron(truthGates, randn([4, 4], generator: generator));   // 16 x 32
        var layer = new KroneckerLinear("search", 32, 16, [new BlockShape(2, 2), new BlockShape(4, 4), new BlockShape(8, 8)], 1, generator);
        Assert.Equal(3, layer.LiveCandidates.Count);
        long flopsBefore = layer.Describe(0).TrainingFlopsPerExample;

        Fit(layer, truth, generator, steps: 2000, lambda2: 0.1);

        Assert.Equal([new BlockShape(4, 4)], layer.LiveCandidates.Select(c => c.Block));
        Assert.Equal("4x4", layer.Describe(0).BlockShape);
        Assert.Equal([new BlockShape(2, 2), new BlockShape(4, 4), new BlockShape(8, 8)], layer.Describe(0).CandidateBlockShapes!);
        // The retired candidates no longer cost anything: only the 4x4 factors are computed.
        Assert.Equal(3 * LayerCost.FactoredForwardFlops(32, 16, new BlockShape(4, 4), 1), layer.Describe(0).TrainingFlopsPerExample);
        Assert.True(layer.Describe(0).TrainingFlopsPerExample < flopsBefore / 2);
        // The survivor fits the truth.
        using var weight = layer.MaterializeWeight().detach();
        Assert.True(weight.sub(truth).norm().item<float>() < 0.05f * truth.norm().item<float>());
    }

    [Fact]
    public void DecisionKeepsTheCandidateWithTheLargestShareOfTheWeight()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        var layer = new KroneckerLinear("search", 32, 16, [new BlockShape(2, 2), new BlockShape(4, 4), new BlockShape(8, 8)], 1, generator);
        var other = new KroneckerLinear("decided", 32, 16, [new BlockShape(2, 2)], 1, generator);
        // The middle candidate carries most of the weight; the others are small but far from retirement's 1 %.
        using (no_grad())
        using (var small = Scalars.Of(0.2))
        using (var large = Scalars.Of(3.0))
        {
            layer.Candidates[0].Right.mul_(small);
            layer.Candidates[1].Right.mul_(large);
        }
        Assert.Equal(0, CandidateRetirement.Apply([layer], 0.01));

        Assert.Equal(2, CandidateRetirement.KeepStrongest([layer, other]));
        Assert.Equal([new BlockShape(4, 4)], layer.LiveCandidates.Select(c => c.Block));
        Assert.Equal(0, CandidateRetirement.KeepStrongest([layer, other]));   // decided: nothing more to retire
        Assert.Single(other.LiveCandidates);
    }

    [Fact]
    public void TrainerDecidesAtTheDecisionEpochAndNotBefore()
    {
        var ml = new MLContext(1);
        var data = TinyClassifier.Data(ml, rows: 60);
        BlockSparseTrainer.Options Options(int decideAfter) => new()
        {
            HiddenLayers = [8],
            Epochs = 3,
            Device = ComputeDevice.Cpu,
            CandidateBlockShapes = [[new BlockShape(2, 2), new BlockShape(4, 4), new BlockShape(8, 4)], [new BlockShape(1, 4), new BlockShape(3, 8)]],
            ShapeSearchDecisionEpochs = decideAfter,
        };
        string[] LayerOneShapes(int decideAfter)
        {
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.MulticlassClassification.Trainers.BlockSparse(Options(decideAfter))).Fit(data).LastTransformer;
            return model.History.Select(e => e.BlockShapes![0]!).ToArray();
        }

        var decidedLate = LayerOneShapes(2);
        Assert.Contains('+', decidedLate[0]);
        Assert.DoesNotContain('+', decidedLate[1]);
        Assert.Equal(decidedLate[1], decidedLate[2]);
        // 0: λ2 alone, which on this tiny run retires nothing within three epochs.
        Assert.All(LayerOneShapes(0), s => Assert.Contains('+', s));
    }

    [Fact]
    public void WeightNormEqualsTheNormOfTheMaterialisedShare()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(4);
        var factors = new KroneckerFactors("c", 12, 8, new BlockShape(2, 3), 3, 1.0 / 12, generator);
        using (no_grad())
            factors.Gate.copy_(randn(factors.Gate.shape, generator: generator));
        Assert.Equal(factors.MaterializeWeight().norm().item<float>(), factors.WeightNorm().item<float>(), 4);
    }

    [Fact]
    public void RetiredCandidatesStayZeroAndAreSkippedByTheForwardPass()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var layer = new KroneckerLinear("search", 12, 8, [new BlockShape(2, 3), new BlockShape(4, 6)], 2, generator);
        layer.RetireCandidate(1);
        var survivor = layer.Candidates[0];
        var input = randn([5, 12], generator: generator);
        var expected = input.matmul(survivor.MaterializeWeight().t()).add(layer.Bias, Scalars.One);
        Assert.True(layer.call(input).allclose(expected, rtol: 1e-5, atol: 1e-5));
        Assert.All(layer.Candidates[1].Group, p => Assert.False(p.requires_grad));
        Assert.Equal(0, layer.Candidates[1].GroupNorm());
        Assert.Throws<InvalidOperationException>(() => layer.RetireCandidate(0));
    }

    [Fact]
    public void RestoredStateCarriesWhichCandidatesAreLive()
    {
        // Checkpoints and early stopping restore parameters and buffers by name; the live candidates must follow.
        var plan = LayerPlan.ForMlp(12, [8], 4, new PlanRequest(BlockSparseMethod.Kronecker, 2, null, null,
            [[new BlockShape(2, 3), new BlockShape(4, 6)], [new BlockShape(2, 2)]], false));
        using var source = new BlockSparseNetwork(plan, seed: 1);
        source.FactoredLayers.First().RetireCandidate(0);
        using var target = new BlockSparseNetwork(plan, seed: 2);
        ModuleState.Restore(target, ModuleState.Copy(source), "test");

        Assert.Equal([new BlockShape(4, 6)], target.FactoredLayers.First().LiveCandidates.Select(c => c.Block));
        using var input = randn(3, 12);
        Assert.True(target.call(input).allclose(source.call(input)));

        // Restoring a state from before the retirement brings the candidate back.
        using var fresh = new BlockSparseNetwork(plan, seed: 3);
        ModuleState.Restore(source, ModuleState.Copy(fresh), "test");
        Assert.Equal(2, source.FactoredLayers.First().LiveCandidates.Count);
        Assert.All(source.FactoredLayers.First().Candidates[0].Group, p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void AutomaticCandidatesAreBoundedValidAndCheaperThanDense()
    {
        var shapes = BlockShapeCandidates.Search(784, 300, 4);
        Assert.Equal([new BlockShape(10, 14), new BlockShape(15, 28), new BlockShape(30, 56)], shapes);
        foreach (var (inF, outF, rank) in new[] { (784, 300, 4), (300, 100, 4), (100, 10, 4), (64, 64, 1), (97, 13, 1) })
        {
            var found = BlockShapeCandidates.Search(inF, outF, rank);
            Assert.InRange(found.Count, 0, BlockShapeCandidates.MaxSearched);
            Assert.All(found, b => Assert.True(b.Divides(inF, outF) && BlockShapeCandidates.IsCheaperThanDense(inF, outF, b, rank)));
            Assert.Equal(found.Count, found.Distinct().Count());
        }
    }

    [Theory]
    [InlineData(784, 300, 2, 0.05)]
    [InlineData(300, 100, 2, 0.075)]
    [InlineData(64, 192, 2, 0.25)]
    [InlineData(49, 64, 1, 0.3)]
    public void BudgetCandidatesFitTheBudgetAndAllowTheHighestRank(int inF, int outF, int rank, double fraction)
    {
        var found = BlockShapeCandidates.WithinFlopBudget(inF, outF, rank, fraction);
        Assert.InRange(found.Count, 1, BlockShapeCandidates.MaxSearched);
        Assert.Equal(found.Count, found.Distinct().Count());
        double budget = fraction * LayerCost.DenseForwardFlops(inF, outF);
        Assert.All(found, b => Assert.True(b.Divides(inF, outF) && LayerCost.FactoredForwardFlops(inF, outF, b, rank) <= budget
            && BlockShapeCandidates.IsCheaperThanDense(inF, outF, b, rank)));
        // No shape left out of the list fits the budget and allows a higher rank than one in it.
        long weakest = found.Min(b => BlockShapeCandidates.WeightRankBound(inF, outF, b, rank));
        var all = from m in Enumerable.Range(1, outF) where outF % m == 0
                  from n in Enumerable.Range(1, inF) where inF % n == 0
                  select new BlockShape(m, n);
        foreach (var other in all.Except(found))
        {
            if (LayerCost.FactoredForwardFlops(inF, outF, other, rank) <= budget && BlockShapeCandidates.IsCheaperThanDense(inF, outF, other, rank))
                Assert.True(BlockShapeCandidates.WeightRankBound(inF, outF, other, rank) <= weakest, $"{other} allows a higher rank than {string.Join(", ", found)}");
        }
    }

    [Fact]
    public void BudgetSearchPlansTheBudgetCandidatesAndFallsBackWhereNoShapeFits()
    {
        var request = new PlanRequest(BlockSparseMethod.Kronecker, 2, null, null, null, true, 0.05);
        var plan = LayerPlan.ForMlp(784, [300, 100], 10, request);
        Assert.Equal(BlockShapeCandidates.WithinFlopBudget(784, 300, 2, 0.05), plan[0].Candidates);
        Assert.Equal(BlockShapeCandidates.WithinFlopBudget(300, 100, 2, 0.05), plan[1].Candidates);
        // No tiling of 100 -> 10 costs 5 % of the dense layer: the automatic shape, as without a search.
        Assert.Empty(BlockShapeCandidates.WithinFlopBudget(100, 10, 2, 0.05));
        Assert.Equal([BlockShapeCandidates.Automatic(100, 10, 2, outputLayer: true)!.Value], plan[2].Candidates);
        Assert.All(plan[0].Candidates, b => Assert.True(3 * LayerCost.FactoredForwardFlops(784, 300, b, 2) <= 0.05 * 3 * LayerCost.DenseForwardFlops(784, 300)));

        // The fallback costs more than the budget, so the plan, and through the network the report, say so for that layer only.
        Assert.Null(plan[0].Note);
        Assert.Null(plan[1].Note);
        var fallback = BlockShapeCandidates.Automatic(100, 10, 2, outputLayer: true)!.Value;
        Assert.Equal(BlockShapeCandidates.Balanced(100, 10, 2), fallback);
        double cost = (double)LayerCost.FactoredForwardFlops(100, 10, fallback, 2) / LayerCost.DenseForwardFlops(100, 10);
        Assert.True(cost > 0.05);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture,
            $"no block shape is within 5.0 % of its dense FLOPs (ShapeSearchFlopFraction): trained with the automatic shape {fallback}, {cost:P1} of them"), plan[2].Note);
        using var network = new BlockSparseNetwork(plan, 1);
        var report = network.Report();
        Assert.Equal(plan[2].Note, report.Layers[2].PlanNote);
        Assert.Null(report.Layers[0].PlanNote);
        Assert.Contains($"layer 2: {plan[2].Note}", report.ToTable());
        Assert.Contains("\"planNote\"", report.ToJson());

        // At rank 4 no shape of 100 -> 10 saves anything, not even the automatic one: it stays dense, and its reason names the budget too.
        var rank4 = LayerPlan.ForMlp(784, [300, 100], 10, request with { Rank = 4 });
        Assert.False(rank4[2].Factored);
        Assert.Null(BlockShapeCandidates.Automatic(100, 10, 4, outputLayer: true));
        Assert.EndsWith(", and no block shape is within 5.0 % of its dense FLOPs (ShapeSearchFlopFraction)", rank4[2].DenseReason);

        // Without a budget the automatic shape is what was asked for: no note.
        var plain = LayerPlan.ForMlp(784, [300, 100], 10, request with { SearchBlockShapes = false, SearchFlopFraction = 0 });
        Assert.All(plain, p => Assert.Null(p.Note));
    }

    [Fact]
    public void BudgetWithoutTheSearchOrOutOfRangeIsRefusedByName()
    {
        var withoutSearch = Assert.Throws<ArgumentOutOfRangeException>(() => Run.RunDescription.From(new BlockSparseTrainer.Options { ShapeSearchFlopFraction = 0.05 }));
        Assert.Equal("ShapeSearchFlopFraction", withoutSearch.ParamName);
        Assert.Contains("SearchBlockShapes is false", withoutSearch.Message);
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => Run.RunDescription.From(new BlockSparseTrainer.Options { SearchBlockShapes = true, ShapeSearchFlopFraction = 1.5 }));
        Assert.Equal("ShapeSearchFlopFraction", tooLarge.ParamName);
        Assert.Contains("[0, 1)", tooLarge.Message);
        Assert.Equal(0, new BlockSparseTrainer.Options().ShapeSearchFlopFraction);
    }

    private static void Fit(KroneckerLinear layer, Tensor truth, Generator generator, int steps, double lambda2)
    {
        using var optimizer = new ProximalAdam(layer.parameters());
        for (int step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            var x = randn([64, truth.shape[1]], generator: generator);
            var loss = layer.call(x).sub(x.matmul(truth.t())).pow(Scalars.Two).mean();
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step(0.01);
            ProximalPenalties.CandidateGroups([layer], optimizer, 0.01, lambda2);
            if ((step + 1) % 100 == 0)
                CandidateRetirement.Apply([layer], 0.01);
        }
    }
}
