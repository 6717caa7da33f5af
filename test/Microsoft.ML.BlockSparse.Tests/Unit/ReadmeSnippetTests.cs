using System.Text.RegularExpressions;
using Xunit;

namespace Microsoft.ML.BlockSparse.Tests;

/// <summary>
/// Every ```csharp block of README.md appears verbatim in Support/ReadmeSnippets.cs, which the test project
/// compiles: a README snippet that stops compiling, or one edited in the README only, fails here.
/// </summary>
public class ReadmeSnippetTests
{
    [Fact]
    public void EveryCSharpBlockOfTheReadmeIsCompiledCode()
    {
        var root = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var snippets = Normalise(File.ReadAllText(Path.Combine(root, "test", "Microsoft.ML.BlockSparse.Tests", "Support", "ReadmeSnippets.cs")));
        var blocks = Regex.Matches(readme, @"^```csharp\r?\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();

        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            // using directives sit at the top of the file, the rest where it compiles.
            var lines = block.Split('\n').Where(l => !Regex.IsMatch(l, @"^using [\w.]+;")).ToList();
            var code = Normalise(string.Join('\n', lines));
            Assert.True(snippets.Contains(code, StringComparison.Ordinal),
                $"This README snippet is not in test/Microsoft.ML.BlockSparse.Tests/Support/ReadmeSnippets.cs (add it there, as written, so that it compiles):\n{block}");
            foreach (var directive in block.Split('\n').Where(l => Regex.IsMatch(l, @"^using [\w.]+;")))
                Assert.Contains(Regex.Match(directive, @"^using [\w.]+;").Value, snippets);
        }
    }

    // Indentation and trailing spaces aside: the file nests the statements in methods.
    private static string Normalise(string text) =>
        string.Join('\n', text.Replace("\r", "", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "BlockSparse.MLNet.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No BlockSparse.MLNet.sln above {AppContext.BaseDirectory}.");
    }
}
