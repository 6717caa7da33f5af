namespace Samples;

/// <summary>The <c>--model FILE.zip</c> of predict and predict-image: a folder or a missing file is a usage mistake, said as such.</summary>
internal static class ModelArgument
{
    public static void Check(string modelPath)
    {
        if (Directory.Exists(modelPath))
            throw new UsageException($"--model '{modelPath}' is a folder; expected a model zip file (FILE.zip, as train --model writes).");
        if (!File.Exists(modelPath))
            throw new UsageException($"Model file '{modelPath}' does not exist.");
    }
}
