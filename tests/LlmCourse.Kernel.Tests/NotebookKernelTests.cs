using LlmCourse.Kernel.Tests.Support;

namespace LlmCourse.Kernel.Tests;

/// <summary>
/// The real .NET Interactive kernel is the runner's oracle: every notebook under notebooks/ (found
/// by itself, so a lesson is covered the moment it is added) runs in quick mode through the C#
/// kernel hosted in this process, must end without an error output or a ✗ check, and each cell's
/// outputs must match what `llmcourse run --quick` writes for it (<see cref="OutputComparison"/>
/// names the only differences allowed). Each notebook's time in both is written to the test output.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(KernelRunsCollection.Name)]
public sealed class NotebookKernelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Lessons()
    {
        var data = new TheoryData<string>();
        foreach (var path in Repository.LessonNotebooks()) data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Lessons))]
    public async Task Lesson_RunsInTheRealKernel_LikeInTheRunner(string notebook)
    {
        Repository.RequireReleaseBuild();
        var path = Path.Combine(Repository.Notebooks, notebook);
        var cancel = TestContext.Current.CancellationToken;

        using var cache = new IsolatedCache();
        var kernel = await KernelNotebookRun.ExecuteAsync(path, cancel, cache.Environment);
        output.WriteLine($"{notebook}: real kernel, quick mode, {kernel.Runs.Count}/{kernel.Cells.Count} code cells in {kernel.Elapsed.TotalSeconds:0.0} s");
        var problems = new List<string>();
        var outFolder = Directory.CreateTempSubdirectory("llmcourse-kernel-").FullName;
        try
        {
            cache.Reset();
            var runner = await RunnerCli.RunQuickAsync(path, outFolder, cancel, cache.Environment);
            output.WriteLine($"{notebook}: llmcourse run --quick in {runner.Elapsed.TotalSeconds:0.0} s (exit {runner.ExitCode})");
            Assert.True(runner.ExitCode == 0, $"llmcourse run failed on {notebook}:\n{runner.Console}");
            var executed = NotebookCells.CodeCells(NotebookCells.Read(runner.ExecutedPath));
            var allowed = new SortedSet<string>();
            for (var i = 0; i < kernel.Runs.Count; i++)
                problems.AddRange(OutputComparison.Compare(i, kernel.Runs[i].Outputs(), NotebookCells.Outputs(executed[i]), allowed));
            if (kernel.Runs.Sum(r => r.Events.Count(e => e is Microsoft.DotNet.Interactive.Events.DisplayedValueUpdated)) > 0)
                allowed.Add(OutputComparison.LiveChartFrames);
            output.WriteLine($"{notebook}: differences allowed: {(allowed.Count == 0 ? "none" : string.Join("; ", allowed))}");
            foreach (var problem in problems) output.WriteLine(problem);
        }
        finally { Directory.Delete(outFolder, recursive: true); }
        Assert.True(!kernel.Errors.Any(), $"{notebook} failed in the real kernel:\n{string.Join("\n", kernel.Errors)}");
        Assert.True(!kernel.FailedChecks.Any(), $"{notebook}: failed checks in the real kernel:\n{string.Join("\n", kernel.FailedChecks)}");
        Assert.Equal(kernel.Cells.Count, kernel.Runs.Count);
        Assert.True(problems.Count == 0, $"{notebook}: the kernel's outputs differ from the runner's:\n{string.Join("\n", problems)}");
    }
}
