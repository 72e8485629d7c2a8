using System.Diagnostics;
using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// Every notebook under notebooks/ runs in quick mode, found automatically: a new lesson is tested
/// the moment it is added. A lesson passes when no cell fails and no exercise check prints ✗
/// (the notebooks carry their reference answers, and lessons assert with Check that their curves go
/// down). Each notebook's time is written to the test output.
/// </summary>
[Trait("Category", "Notebooks")]
[Collection(NotebookRunsCollection.Name)]
public sealed class LessonNotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> Lessons()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Lessons))]
    public async Task Lesson_RunsInQuickMode_WithoutErrorsOrFailedChecks(string notebook)
    {
        Assert.True(File.Exists(Repository.ReleaseLibrary),
            $"{Repository.ReleaseLibrary} is missing: the notebooks load the Release build; run `dotnet build -c Release` (or test with -c Release).");
        var path = Path.Combine(Repository.Notebooks, notebook);
        var clock = Stopwatch.StartNew();

        var run = await NotebookRunner.RunAsync(path, new RunOptions { Quick = true }, TestContext.Current.CancellationToken);

        output.WriteLine($"{notebook}: quick mode, {run.Cells.Count}/{run.CodeCellCount} code cells in {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var cell in run.Cells.OrderByDescending(c => c.Elapsed).Take(3))
            output.WriteLine($"  slowest: cell {cell.CellIndex + 1} {cell.Elapsed.TotalSeconds:0.00} s");
        Assert.True(run.Succeeded, string.Join(Environment.NewLine, run.Failures));
        Assert.Equal(run.CodeCellCount, run.Cells.Count);

        var failedChecks = run.Executed.Cells
            .SelectMany((cell, index) => cell.Outputs
                .Where(o => o.Kind == OutputKind.Stream)
                .SelectMany(o => (o.Text ?? "").Split('\n'))
                .Where(line => line.StartsWith('✗'))
                .Select(line => $"cell {index + 1}: {line}"))
            .ToList();
        Assert.True(failedChecks.Count == 0, $"{notebook}: failed checks:{Environment.NewLine}{string.Join(Environment.NewLine, failedChecks)}");
    }
}
