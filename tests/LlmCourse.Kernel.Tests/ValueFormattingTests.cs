using System.Net;
using LlmCourse.Kernel.Tests.Support;
using Microsoft.DotNet.Interactive.Formatting;

namespace LlmCourse.Kernel.Tests;

/// <summary>
/// The library's values as a cell's result, in the real kernel: through the kernel's own formatter
/// (Formatter.ToDisplayString, GetPreferredMimeTypesFor) they read as text, or as HTML for views,
/// never as the kernel's property table (72 KB of HTML for a 2×3 tensor before the library declared
/// its formatters); and the runner's ValueFormatter sends the same MIME types with the same text.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(KernelRunsCollection.Name)]
public sealed class ValueFormattingTests(ITestOutputHelper output)
{
    static string Fixture => Path.Combine(Repository.Root, "tests", "LlmCourse.Kernel.Tests", "Fixtures", "values.ipynb");

    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LibraryValues_AsACellsResult_AreTheSameInTheKernelAndTheRunner()
    {
        Repository.RequireReleaseBuild();
        var kernel = await KernelNotebookRun.ExecuteAsync(Fixture, Cancel);
        Assert.True(!kernel.Errors.Any(), string.Join("\n", kernel.Errors));
        var outFolder = Directory.CreateTempSubdirectory("llmcourse-kernel-values-").FullName;
        try
        {
            var runner = await RunnerCli.RunQuickAsync(Fixture, outFolder, Cancel);
            Assert.True(runner.ExitCode == 0, runner.Console);
            var executed = NotebookCells.CodeCells(NotebookCells.Read(runner.ExecutedPath));
            var allowed = new SortedSet<string>();
            var problems = kernel.Runs.SelectMany((run, i) => OutputComparison.Compare(i, run.Outputs(), NotebookCells.Outputs(executed[i]), allowed)).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            // Only the int (1 + 2) is a value without a course formatter.
            Assert.Equal([OutputComparison.KernelHtmlForPlainValues], allowed);
        }
        finally { Directory.Delete(outFolder, recursive: true); }

        // The texts, worked out by hand.
        string Result(int codeCell) => Assert.Single(kernel.Runs[codeCell - 1].Outputs(), o => o.Type == OutputType.Result)["text/plain"]!;
        Assert.Equal("tensor([[1., 2., 3.],\n        [4., 5., 6.]])", Result(2));
        // 2000 nats over 1000 tokens: loss 2, perplexity e² = 7.389; over 4000 characters: 2000 / ln 2 / 4000 = 0.7213 bits.
        Assert.Equal("bigram: loss 2.0000 nats/token, perplexity 7.39, 0.721 bits/char (1,000 tokens)", Result(4));
        Assert.StartsWith("GptConfig { VocabSize = 65, BlockSize = 64, Layers = 2, Heads = 4, Embedding = 128", Result(6));
        // e^3.75 = 42.52.
        Assert.Equal("TrainingHistory: 2 steps (1-2), loss 4.0000 → 3.5000, 0.0 s; 1 evaluations, last at step 2: " +
                     "train 3.5000, val 3.7500 (perplexity 42.52)", Result(8));
        Assert.Equal("TokenPiece { Id = 7, ByteStart = 0, ByteLength = 2, Text = he, IsSpecial = False }", Result(9));
        var displays = kernel.Runs[11].Outputs();
        Assert.Equal(2, displays.Count);
        Assert.All(displays, d => Assert.Equal(["text/plain"], d.MimeTypes));
        Assert.Equal("tensor(21.)", displays[1]["text/plain"]);
    }

    public static TheoryData<string, string[]> Values() => new()
    {
        { "tensor", ["text/plain"] },
        { "linear", ["text/plain"] },
        { "score", ["text/plain"] },
        { "board", ["text/html", "text/plain"] },
        { "config", ["text/plain"] },
        { "options", ["text/plain"] },
        { "history", ["text/plain"] },
        { "tokenizer", ["text/plain"] },
        { "piece", ["text/plain"] },
        { "merge", ["text/plain"] },
        { "bpe", ["text/plain"] },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task EachLibraryType_ThroughTheKernelsFormatter_IsTextOrItsOwnHtml_NeverThePropertyTable(string variable, string[] mimeTypes)
    {
        Repository.RequireReleaseBuild();
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Path.GetDirectoryName(Fixture)!;
        try
        {
            using var kernel = new KernelSession();
            foreach (var cell in NotebookCells.CodeCells(NotebookCells.Read(Fixture)).Take(11))
                Assert.Empty((await kernel.SubmitAsync(cell.Contents, Cancel)).Errors);
            var value = kernel.Value(variable)!;

            var preferred = Formatter.GetPreferredMimeTypesFor(value.GetType());
            var text = value.ToDisplayString("text/plain");
            var html = value.ToDisplayString("text/html");

            output.WriteLine($"{value.GetType().Name}: [{string.Join(", ", preferred)}] {text.Length} chars of text, {html.Length} of HTML");
            Assert.Equal(mimeTypes, preferred);
            Assert.Equal(value.ToString(), text);
            Assert.DoesNotContain("dni-treeview", html);          // the kernel's property tree
            Assert.DoesNotContain("<th>", html[..Math.Min(html.Length, 200)]); // its property table's header
            if (mimeTypes is ["text/plain"])
            {
                // The same text, escaped, in a block that keeps its lines: not a table of the value's properties.
                Assert.Contains(WebUtility.HtmlEncode(text), html);
                Assert.True(html.Length < text.Length * 2 + 200, $"{html.Length} chars of HTML for {text.Length} of text");
            }
        }
        finally { Environment.CurrentDirectory = previous; }
    }
}
