using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Cli;

/// <summary><c>llmcourse handout</c>: writes the student copies into their own folder, never over a notebook.</summary>
[Collection(NotebookRunsCollection.Name)]
public sealed class HandoutCommandTests : IDisposable
{
    readonly FixtureFolder folder = new();

    public void Dispose() => folder.Dispose();

    string Lesson(string name, string code)
    {
        var lessons = Directory.CreateDirectory(Path.Combine(folder.Path, "lessons")).FullName;
        var path = Path.Combine(lessons, name);
        var answer = Cell.Code(code);
        answer.ExecutionCount = 1;
        answer.Outputs.Add(Output.Stream("stdout", "✓ y = 4\n"));
        NotebookWriter.Save(Notebook.Create(Cell.Markdown("**1. Four.**"), answer), path);
        return path;
    }

    [Fact]
    public async Task Handout_WritesEachNotebooksStudentCopy_IntoTheOutFolder()
    {
        var lesson = Lesson("01-a.ipynb", "double y = double.NaN;\n// ▼ answer\ny = 4;\n// ▲ answer");
        Lesson("02-b.ipynb", "var z = 0;");
        var output = Path.Combine(folder.Path, "handouts");

        var (exitCode, text) = await CliTests.RunWithInput(null, "handout", Path.GetDirectoryName(lesson)!, "--out", output);

        Assert.Equal(0, exitCode);
        Assert.Contains("01-a.ipynb (1 answer removed)", text);
        Assert.Contains("02-b.ipynb (0 answers removed)", text);
        var handout = NotebookReader.Load(Path.Combine(output, "01-a.ipynb"));
        Assert.Equal("double y = double.NaN;\n// ▼ answer\n// your answer here (see the exercise above)\n// ▲ answer", handout.Cells[1].Source);
        Assert.Empty(handout.Cells[1].Outputs);
        // The lesson itself keeps its answer and its outputs.
        Assert.Contains("y = 4;", NotebookReader.Load(lesson).Cells[1].Source);
        Assert.NotEmpty(NotebookReader.Load(lesson).Cells[1].Outputs);
    }

    [Fact]
    public async Task Handout_RefusesToWriteOverTheNotebooks()
    {
        var lesson = Lesson("01-a.ipynb", "double y = double.NaN;\n// ▼ answer\ny = 4;\n// ▲ answer");

        var (exitCode, text) = await CliTests.RunWithInput(null, "handout", lesson, "--out", Path.GetDirectoryName(lesson)!);

        Assert.Equal(2, exitCode);
        Assert.Contains("a handout would overwrite its notebook", text);
        Assert.Contains("y = 4;", NotebookReader.Load(lesson).Cells[1].Source);
    }

    [Fact]
    public async Task Handout_ABadMarker_FailsNamingTheNotebookAndCell_AndWritesNothingForIt()
    {
        var lesson = Lesson("01-a.ipynb", "double y = double.NaN;\n// ▼ answer\ny = 4;");
        var output = Path.Combine(folder.Path, "handouts");

        var (exitCode, text) = await CliTests.RunWithInput(null, "handout", lesson, "--out", output);

        Assert.Equal(1, exitCode);
        Assert.Contains("01-a.ipynb: cell 2: line 2: '// ▼ answer' is never closed", text);
        Assert.False(File.Exists(Path.Combine(output, "01-a.ipynb")));
    }
}
