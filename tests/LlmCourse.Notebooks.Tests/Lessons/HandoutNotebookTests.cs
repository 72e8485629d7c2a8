using System.Diagnostics;
using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Handouts;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// The student copy of every lesson (<c>llmcourse handout</c>, made here in memory) runs in quick mode from
/// top to bottom with no error, and every exercise whose answer was removed reports ✗ (see
/// <see cref="HandoutVerdict"/>). The full lessons printing only ✓ is <see cref="LessonNotebookTests"/>' job.
/// </summary>
[Trait("Category", "Handout")]
[Collection(NotebookRunsCollection.Name)]
public sealed class HandoutNotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> Lessons() => LessonNotebookTests.Lessons();

    [Theory]
    [MemberData(nameof(Lessons))]
    public async Task Handout_RunsWithoutErrors_AndEveryExerciseReportsItsMissingAnswer(string notebook)
    {
        Assert.True(File.Exists(Repository.ReleaseLibrary),
            $"{Repository.ReleaseLibrary} is missing: the notebooks load the Release build; run `dotnet build -c Release` (or test with -c Release).");
        var path = Path.Combine(Repository.Notebooks, notebook);
        var lesson = NotebookReader.Load(path);
        var answers = Handout.Answers(lesson, path);
        var clock = Stopwatch.StartNew();

        // Run from the lesson's own path: its #r lines are relative to the notebooks folder.
        var run = await NotebookRunner.RunAsync(Handout.Strip(lesson, path), path,
            new RunOptions { Quick = true, ContinueOnError = true }, TestContext.Current.CancellationToken);

        output.WriteLine($"{notebook}: handout with {answers.Count} answers removed, quick mode, {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var line in CheckLines.Of(run.Executed).Failed) output.WriteLine($"  {line}");
        var problems = HandoutVerdict.Problems(notebook, run.Executed, run.Failures, answers);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
