using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;
using Samples;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The loading pattern the README and <see cref="MnistModel"/> recommend: one loaded model, one engine per
/// thread that does not own it, so disposing an engine leaves the model and the other engines working.
/// </summary>
[Trait("Category", "Integration")]
public class PredictionEngineTests(MnistSlice mnist) : IClassFixture<MnistSlice>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private sealed class Digit
    {
        public string Label { get; set; } = "";
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    private sealed class Prediction
    {
        public float[] Score { get; set; } = [];
    }

    [Fact]
    public void EnginesOnSeveralThreadsKeepScoringWhenOneIsDisposed()
    {
        var ml = new MLContext(1);
        var train = IdxDataset.ToDataView(ml, mnist.Train.Take(500).ToList());
        var options = MnistSlice.QuickOptions(epochs: 1);
        options.HiddenLayers = [32];
        var path = temp.File("model.zip");
        ml.Model.Save(ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.BlockSparse(options)).Fit(train),
            train.Schema, path);
        var rows = mnist.Test.Take(50).Select(d => new Digit { Label = d.Label, Pixels = d.Pixels }).ToList();

        // The README's loading example.
        var context = new MLContext();
        var model = BlockSparseModelFile.Load(context, path, out _);
        var engineOptions = new PredictionEngineOptions { OwnsTransformer = false };
        float[][] expected;
        using (var reference = context.Model.CreatePredictionEngine<Digit, Prediction>(model, engineOptions))
            expected = rows.Select(r => reference.Predict(r).Score).ToArray();

        using var disposed = new ManualResetEventSlim();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            try
            {
                var engine = context.Model.CreatePredictionEngine<Digit, Prediction>(model, engineOptions);
                for (int pass = 0; pass < 5; pass++)
                {
                    for (int i = 0; i < rows.Count; i++)
                        Assert.Equal(expected[i], engine.Predict(rows[i]).Score);
                    if (t == 0)
                    {
                        engine.Dispose();   // while the others score
                        disposed.Set();
                        return;
                    }
                    disposed.Wait();
                }
                engine.Dispose();
            }
            catch (Exception e)
            {
                failures.Enqueue(e);
                disposed.Set();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);

        // The model itself still transforms.
        Assert.Equal(50, model.Transform(context.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Score").Count());
    }

    [Fact]
    public void MnistModelEnginesDoNotOwnTheSharedModel()
    {
        var images = temp.File("images");
        ImageExport.Write(mnist.Train.Take(60).ToList(), 28, 28, images);
        var ml = new MLContext(1);
        var data = ImageFolder.Load(ml, images);
        var options = MnistSlice.QuickOptions(epochs: 1);
        options.FeatureColumnName = "Features";
        options.HiddenLayers = [16];
        var chain = ImagePipelines.Featurize(ml, new ImageShape(1, 28, 28))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(options))
            .Fit(data);
        // Saved as train --data IMAGE_FOLDER saves it: PredictedLabel mapped back to the class name.
        var saved = chain.Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(chain.Transform(data)));
        var path = temp.File("MnistModel.zip");
        ml.Model.Save(saved, data.Schema, path);
        var image = ImageFolder.List(images)[0].ImagePath;

        MnistModel.ModelPath = path;
        var expected = MnistModel.Predict(image);
        var first = MnistModel.CreatePredictEngine();
        var second = MnistModel.CreatePredictEngine();
        first.Dispose();

        var input = new MnistModel.ModelInput { ImagePath = image };
        Assert.Equal(expected.Score, second.Predict(input).Score);
        Assert.Equal(expected.PredictedLabel, MnistModel.Predict(image).PredictedLabel);
        second.Dispose();
        Assert.Equal(expected.Score, MnistModel.Predict(image).Score);
    }
}
