using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// The sample's <c>export-onnx</c> and <see cref="OnnxNetworkFile"/>: the network taken out of a saved zip runs in
/// ONNX Runtime on its own and gives the zip's scores.
/// </summary>
public class ExportOnnxTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void ExportedNetworkRunInOnnxRuntimeGivesTheZipsScores()
    {
        var ml = new MLContext(1);
        var trained = TinyClassifier.Train(ml);
        var zip = temp.File("model.zip");
        ml.Model.Save(trained, TinyClassifier.Data(ml).Schema, zip);
        var onnxPath = temp.File("model.onnx");

        Assert.Equal(0, Samples.ExportOnnxCommand.Run(["--model", zip, "--out", onnxPath]));

        // The same bytes the trained model's SaveOnnx writes.
        using (var saved = new MemoryStream())
        {
            trained.LastTransformer.SaveOnnx(saved);
            Assert.Equal(saved.ToArray(), File.ReadAllBytes(onnxPath));
        }

        var fresh = new MLContext(2);
        var loaded = fresh.Model.Load(zip, out _);
        var data = TinyClassifier.Data(fresh);
        var zipScores = loaded.Transform(data).GetColumn<float[]>("Score").ToList();
        var features = data.GetColumn<float[]>("Features").ToList();
        using var session = new InferenceSession(onnxPath);
        Assert.Equal("Features", session.InputMetadata.Keys.Single());
        Assert.Equal("Score", session.OutputMetadata.Keys.Single());
        for (int row = 0; row < features.Count; row++)
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(features[row], [features[row].Length]))]);
            var score = results.Single().AsTensor<float>().ToArray();
            Assert.Equal(zipScores[row].Length, score.Length);
            for (int c = 0; c < score.Length; c++)
                Assert.True(Math.Abs(zipScores[row][c] - score[c]) < 1e-6, $"row {row} class {c}: zip {zipScores[row][c]} onnx {score[c]}");
        }
    }

    [Fact]
    public void AZipWithoutANetworkIsRefusedByName()
    {
        var zip = temp.File("other.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
            archive.CreateEntry("Schema");
        var e = Assert.Throws<InvalidDataException>(() => OnnxNetworkFile.Read(zip));
        Assert.Contains("holds 0 ONNX networks", e.Message);
    }
}
