using System.IO.Compression;
using System.Text;
using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>Model files that are not what the loader expects: a folder, or a zip whose ONNX network reads another input.</summary>
[Trait("Category", "Integration")]
public class ModelFileErrorTests : IDisposable
{
    private readonly MLContext ml = new(1);
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void AFolderIsNamedAsAFolderNotAsMissing()
    {
        var e = Assert.Throws<FileNotFoundException>(() => BlockSparseModelFile.Load(new MLContext(), temp.Path, out _));
        Assert.Equal($"Model file '{temp.Path}' is a folder; expected the zip file that mlContext.Model.Save wrote.", e.Message);

        var (code, output) = SampleApp.RunWithExitCode("predict", "--model", temp.Path);
        Assert.Equal(2, code);
        Assert.Contains($"error: --model '{temp.Path}' is a folder; expected a model zip file (FILE.zip, as train --model writes).", output);
        (code, output) = SampleApp.RunWithExitCode("predict-image", "--model", temp.Path, "x.png");
        Assert.Equal(2, code);
        Assert.Contains($"error: --model '{temp.Path}' is a folder; expected a model zip file (FILE.zip, as train --model writes).", output);
    }

    [Fact]
    public void AnOnnxNetworkWithAnotherInputNameIsNamed()
    {
        var path = TinyClassifier.Save(ml, temp.File("renamed.zip"));
        // Rename the network's input (same length, so the entry's length prefixes stay right), as a zip
        // edited by hand or built around another ONNX file would have it; the zip's checksums stay valid.
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = archive.Entries.Single(e => e.FullName.EndsWith("/OnnxModel", StringComparison.Ordinal));
            byte[] bytes;
            using (var content = new MemoryStream())
            {
                using (var read = entry.Open())
                    read.CopyTo(content);
                bytes = content.ToArray();
            }
            var from = Encoding.ASCII.GetBytes("Features");
            var to = Encoding.ASCII.GetBytes("Pixels_1");
            for (int i = 0; i + from.Length <= bytes.Length; i++)
            {
                if (bytes.AsSpan(i, from.Length).SequenceEqual(from))
                    to.CopyTo(bytes, i);
            }
            var name = entry.FullName;
            entry.Delete();
            using var write = archive.CreateEntry(name).Open();
            write.Write(bytes);
        }

        var e = Assert.Throws<InvalidDataException>(() => BlockSparseModelFile.Load(new MLContext(), path, out _));
        Assert.Equal($"Model file '{path}' has an ONNX network that reads the input 'Pixels_1', but the model feeds it the column 'Features'; "
            + "expected the network the trainer exported, whose input is named after the feature column.", e.Message);
    }
}
