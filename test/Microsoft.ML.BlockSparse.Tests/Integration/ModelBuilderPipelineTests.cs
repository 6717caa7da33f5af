using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Model Builder's image-classification pipeline with <c>BlockSparse</c> in place of <c>ImageClassification</c>:
/// encoded image bytes in (<c>ImageSource</c>), string labels out, through the generated code's
/// <c>ModelInput</c>/<c>ModelOutput</c> shapes, saved, loaded, and predicting from input without a label.
/// </summary>
[Trait("Category", "Integration")]
public class ModelBuilderPipelineTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>As Model Builder generates it.</summary>
    public sealed class ModelInput
    {
        [ColumnName("Label")]
        public string Label { get; set; } = "";

        [ColumnName("ImageSource")]
        public byte[] ImageSource { get; set; } = [];
    }

    /// <summary>As Model Builder generates it.</summary>
    public sealed class ModelOutput
    {
        [ColumnName("PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        [ColumnName("Score")]
        public float[] Score { get; set; } = [];
    }

    /// <summary>What an application that only predicts has: the image, no label.</summary>
    public sealed class ImageOnly
    {
        [ColumnName("ImageSource")]
        public byte[] ImageSource { get; set; } = [];
    }

    private static List<ModelInput> Rows(IEnumerable<(string Path, string Label)> files)
        => files.Select(f => new ModelInput { Label = f.Label, ImageSource = File.ReadAllBytes(f.Path) }).ToList();

    [Fact]
    public void ModelBuilderPipelineTrainsEvaluatesSavesLoadsAndPredictsWithoutALabel()
    {
        var train = Rows(ColourShapes.Write(temp.File("train"), perClass: 60, seed: 1, size: 24));
        var test = Rows(ColourShapes.Write(temp.File("test"), perClass: 25, seed: 2, size: 24));
        var ml = new MLContext(1);
        var trainView = ml.Data.LoadFromEnumerable(train);

        // Model Builder's generated training pipeline, with BlockSparse in place of ImageClassification.
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Label")
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(new BlockSparseTrainer.Options
            {
                LabelColumnName = "Label",
                FeatureColumnName = "ImageSource",
                // A few hundred images: smaller batches and a larger step than MNIST's defaults.
                HiddenLayers = [64],
                Epochs = 20,
                BatchSize = 32,
                LearningRate = 0.01,
                Seed = 1,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel", "PredictedLabel"));
        var model = pipeline.Fit(trainView);

        var blockSparse = model.OfType<BlockSparseModel>().Single();
        Assert.Equal(3 * 24 * 24, blockSparse.FeatureLength);   // ImageShape null: the first image's, 24x24 in colour
        var scored = model.Transform(ml.Data.LoadFromEnumerable(test));
        var predicted = scored.GetColumn<string>("PredictedLabel").ToList();
        double accuracy = predicted.Zip(test).Count(p => p.First == p.Second.Label) / (double)test.Count;
        // Reaches 100 % on this code (colour and shape both needed; either alone gives 50 %); a 12-point margin.
        Assert.True(accuracy >= 0.88, $"accuracy {accuracy:P1} on {test.Count} test images");

        var path = temp.File("MLModel.zip");
        ml.Model.Save(model, trainView.Schema, path);

        // Consumption as Model Builder generates it: a fresh context, Model.Load, and a PredictionEngine of ModelInput.
        var consumer = new MLContext();
        consumer.ComponentCatalog.RegisterAssembly(typeof(ArgMaxMapping).Assembly);
        var loaded = consumer.Model.Load(path, out var inputSchema);
        Assert.Equal(["Label", "ImageSource"], inputSchema.Select(c => c.Name));
        var engine = consumer.Model.CreatePredictionEngine<ModelInput, ModelOutput>(loaded);
        var first = engine.Predict(new ModelInput { ImageSource = test[0].ImageSource });
        Assert.Equal(predicted[0], first.PredictedLabel);
        Assert.Equal(4, first.Score.Length);

        // Without a Label column, ML.NET's own MapValueToKey step refuses the input ...
        var refused = Assert.ThrowsAny<ArgumentException>(() => consumer.Model.CreatePredictionEngine<ImageOnly, ModelOutput>(loaded));
        Assert.Contains("Could not find input column 'Label'", refused.Message);
        // ... and the model BlockSparseModelFile loads leaves that step out, predicting exactly the same.
        var labelFree = BlockSparseModelFile.Load(new MLContext(), path, out _);
        var imageOnly = new MLContext().Model.CreatePredictionEngine<ImageOnly, ModelOutput>(labelFree);
        for (int i = 0; i < 10; i++)
        {
            var p = imageOnly.Predict(new ImageOnly { ImageSource = test[i].ImageSource });
            Assert.Equal(predicted[i], p.PredictedLabel);
            Assert.Equal(engine.Predict(new ModelInput { ImageSource = test[i].ImageSource }).Score, p.Score);
        }
        // Saving the label-free model saves the whole chain: it loads and predicts again.
        var resaved = temp.File("resaved.zip");
        new MLContext().Model.Save(labelFree, inputSchema, resaved);
        var again = new MLContext().Model.CreatePredictionEngine<ImageOnly, ModelOutput>(BlockSparseModelFile.Load(new MLContext(), resaved, out var resavedSchema));
        Assert.Equal(["Label", "ImageSource"], resavedSchema.Select(c => c.Name));
        Assert.Equal(predicted[3], again.Predict(new ImageOnly { ImageSource = test[3].ImageSource }).PredictedLabel);
        // The same for the pipeline just fitted.
        var fitted = ml.Model.CreatePredictionEngine<ImageOnly, ModelOutput>(BlockSparseModelFile.WithOptionalLabel(model));
        Assert.Equal(predicted[1], fitted.Predict(new ImageOnly { ImageSource = test[1].ImageSource }).PredictedLabel);

        // ML.NET's evaluator on the scored test set (the chain up to the trainer, whose PredictedLabel is a key).
        var metrics = ml.MulticlassClassification.Evaluate(model.Take(2).Aggregate(ml.Data.LoadFromEnumerable(test), (view, step) => step.Transform(view)));
        Assert.Equal(accuracy, metrics.MicroAccuracy, 6);
    }

    /// <summary>A prediction input of the LoadRawImageBytes flavour: the file path, no label.</summary>
    public sealed class PathOnly
    {
        public string ImagePath { get; set; } = "";
    }

    [Fact]
    public void LoadRawImageBytesFromAnImageFolderFeedsTheTrainerAndTheSavedModel()
    {
        var files = ColourShapes.Write(temp.File("folder"), perClass: 10, seed: 4, size: 20);
        var ml = new MLContext(1);
        var rows = Data.ImageFolder.Load(ml, temp.File("folder"));    // ImagePath, Label
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadRawImageBytes("ImageSource", null, "ImagePath"))
            .Append(ml.MulticlassClassification.Trainers.BlockSparse(new BlockSparseTrainer.Options
            {
                FeatureColumnName = "ImageSource",
                ImageShape = new ImageShape(1, 16, 16),   // grayscale, resized from 20x20
                HiddenLayers = [16],
                Epochs = 2,
                Seed = 1,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
        var model = pipeline.Fit(rows);
        Assert.Equal(256, model.OfType<BlockSparseModel>().Single().FeatureLength);
        var expected = model.Transform(rows).GetColumn<float[]>("Score").ToList();

        var path = temp.File("raw.zip");
        ml.Model.Save(model, rows.Schema, path);
        var loaded = BlockSparseModelFile.Load(new MLContext(), path, out var schema);
        Assert.Equal(["ImagePath", "Label"], schema.Select(c => c.Name));
        var engine = new MLContext().Model.CreatePredictionEngine<PathOnly, ModelOutput>(loaded);
        var listed = Data.ImageFolder.List(temp.File("folder"));
        for (int i = 0; i < listed.Count; i += 7)
            Assert.Equal(expected[i], engine.Predict(new PathOnly { ImagePath = listed[i].ImagePath }).Score);
        Assert.Equal(files.Count, listed.Count);
    }

    [Fact]
    public void BytesDecodeToTheSamePixelsAsTheImageFilesAndBadBytesAreNamed()
    {
        var files = ColourShapes.Write(temp.Path, perClass: 3, seed: 3, size: 40);
        var ml = new MLContext(1);
        var shape = new ImageShape(3, 24, 24);
        var fromPaths = Data.ImagePipelines.Featurize(ml, shape).Fit(Data.ImageFolder.Load(ml, temp.Path)).Transform(Data.ImageFolder.Load(ml, temp.Path));
        var bytes = ml.Data.LoadFromEnumerable(Rows(files));
        var fromBytes = MLNet.EncodedImageInput.Decoding(ml, "ImageSource", shape).Fit(bytes).Transform(bytes);
        var expected = fromPaths.GetColumn<float[]>("Features").ToList();
        var actual = fromBytes.GetColumn<float[]>(MLNet.EncodedImageInput.PixelColumnName).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(expected[i], actual[i]);
        Assert.Equal(["Label", "ImageSource", MLNet.EncodedImageInput.PixelColumnName], fromBytes.Schema.Select(c => c.Name));

        // A truncated PNG among the bytes: refused by name of the column, before it is decoded.
        var rows = Rows(files);
        rows[2].ImageSource = rows[0].ImageSource[..(rows[0].ImageSource.Length / 2)];
        var bad = ml.Data.LoadFromEnumerable(rows);
        var e = Assert.ThrowsAny<Exception>(() => MLNet.EncodedImageInput.Decoding(ml, "ImageSource", shape).Fit(bad).Transform(bad)
            .GetColumn<float[]>(MLNet.EncodedImageInput.PixelColumnName).ToList());
        var inner = e;
        while (inner is not InvalidDataException && inner.InnerException is not null)
            inner = inner.InnerException;
        Assert.IsType<InvalidDataException>(inner);
        Assert.Contains("An image in the encoded-image column is truncated", inner.Message);

        // Bytes that declare 20000x20000 pixels: refused from the header, before a decoder allocates 1.6 GB.
        rows[2].ImageSource = TrustFiles.PngHeaderOnly(20000, 20000);
        var huge = ml.Data.LoadFromEnumerable(rows);
        var tooLarge = Assert.ThrowsAny<Exception>(() => MLNet.EncodedImageInput.Decoding(ml, "ImageSource", shape).Fit(huge).Transform(huge)
            .GetColumn<float[]>(MLNet.EncodedImageInput.PixelColumnName).ToList());
        while (tooLarge is not InvalidDataException && tooLarge.InnerException is not null)
            tooLarge = tooLarge.InnerException;
        Assert.Contains("An image in the encoded-image column is 20000x20000 pixels", tooLarge.Message);
        Assert.Contains("at most 67,108,864 pixels", tooLarge.Message);
    }
}
