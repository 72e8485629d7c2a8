using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// The README's example of the tensor engine, read from README.md itself (not a copy that could drift)
/// and run as a C# script: it prints the gradient its comment promises, its loss falls, and it saves
/// its checkpoint.
/// </summary>
[Collection(NotebookRunsCollection.Name)]
public sealed class ReadmeExampleTests : IDisposable
{
    readonly FixtureFolder folder = new();

    public void Dispose() => folder.Dispose();

    /// <summary>The first ```csharp block under the heading "## The tensor engine".</summary>
    internal static string EngineExample()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        var section = readme.IndexOf("\n## The tensor engine\n", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## The tensor engine' section");
        var start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md's tensor engine section has no ```csharp block");
        start += "```csharp\n".Length;
        return readme[start..readme.IndexOf("\n```", start, StringComparison.Ordinal)];
    }

    [Fact]
    public async Task TheReadmeExampleRunsAndLearns()
    {
        var code = EngineExample();
        Assert.Contains("model.Save(\"model.safetensors\")", code);
        var path = Path.Combine(folder.Path, "readme.ipynb");
        // The Release build the lessons load (a folder without the runner's own DLLs, as in a kernel).
        var engine = Path.Combine(Path.GetDirectoryName(Repository.ReleaseLibrary)!, "LlmCourse.Tensors.dll");
        NotebookWriter.Save(Notebook.Create(Cell.Code($"#r \"{engine}\"\n{code}")), path);

        var run = await NotebookRunner.RunAsync(path, cancel: TestContext.Current.CancellationToken);

        Assert.True(run.Succeeded, string.Join(Environment.NewLine, run.Failures));
        var printed = string.Concat(run.Executed.Cells[0].Outputs.Where(o => o.Kind == OutputKind.Stream).Select(o => o.Text));
        Assert.Contains("tensor([2., 4., 6.])", printed);   // the comment beside Console.WriteLine(x.Grad)
        var losses = printed.Split('\n').Where(l => l.StartsWith("step ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.IndexOf("loss ", StringComparison.Ordinal) + 5)..], System.Globalization.CultureInfo.CurrentCulture))
            .ToList();
        Assert.Equal(4, losses.Count);
        Assert.True(losses[^1] < 0.5 * losses[0], $"the loss went from {losses[0]} to {losses[^1]}: {printed}");
        var saved = LlmCourse.Tensors.Safetensors.Load(Path.Combine(folder.Path, "model.safetensors"));
        var expected = new LlmCourse.Tensors.NN.Sequential(new LlmCourse.Tensors.NN.Linear(10, 32), new LlmCourse.Tensors.NN.Tanh(),
            new LlmCourse.Tensors.NN.Linear(32, 3)).StateDict().Keys;
        Assert.Equal(expected.Order(StringComparer.Ordinal), saved.Keys.Order(StringComparer.Ordinal));
    }
}
