using LlmCourse.Kernel.Tests.Support;
using Microsoft.DotNet.Interactive.Events;

namespace LlmCourse.Kernel.Tests;

/// <summary>
/// A live training chart (<c>var shown = display(live); ... shown.Update(live);</c>) in the real kernel,
/// seen as each front end applies the kernel's display events: Jupyter (and VS Code's Jupyter
/// extension), and VS Code's Polyglot Notebooks.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(KernelRunsCollection.Name)]
public sealed class LiveChartTests
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    static string References =>
        $"#r \"{Path.Combine(Repository.ReleaseFolder("LlmCourse.Tensors"), "LlmCourse.Tensors.dll")}\"\n" +
        $"#r \"{Path.Combine(Repository.ReleaseFolder("LlmCourse"), "LlmCourse.dll")}\"\nusing LlmCourse.Charts;";

    [Fact]
    public async Task TheKernelsDisplayedValue_UpdatesAnIdItNeverDisplayed()
    {
        // The kernel bug, with no course code: display() shows one DisplayedValue and returns another.
        using var kernel = new KernelSession();

        var run = await kernel.SubmitAsync("var d = display(\"one\"); d.Update(\"two\");", Cancel);

        var shown = Assert.Single(run.Events.OfType<DisplayedValueProduced>());
        var update = Assert.Single(run.Events.OfType<DisplayedValueUpdated>());
        Assert.NotEqual(shown.ValueId, update.ValueId);
        Assert.Equal("one", Assert.Single(run.Outputs(FrontEnd.Jupyter))["text/plain"]);   // the update is lost
        Assert.Equal(["one", "two"], run.Outputs(FrontEnd.Polyglot).Select(o => o["text/plain"]));   // or shown twice
    }

    [Fact]
    public async Task ATrainingChart_UpdatesWhereItWasShown_AndEndsFinished_InJupyterAndPolyglot()
    {
        Repository.RequireReleaseBuild();
        using var kernel = new KernelSession();
        Assert.Empty((await kernel.SubmitAsync(References, Cancel)).Errors);

        var run = await kernel.SubmitAsync("""
            var live = new TrainingChart("fit", 3) { ShowPerplexity = false };
            var shown = display(live);
            for (var step = 1; step <= 3; step++)
            {
                live.Record(step, 3.0 - 0.5 * step);
                shown.Update(live);
            }
            """, Cancel);

        Assert.Empty(run.Errors);
        var displayed = Assert.Single(run.Events.OfType<DisplayedValueProduced>());
        // Every Update reached the output that was displayed.
        Assert.Equal(3, run.Events.OfType<DisplayedValueUpdated>().Count(u => u.ValueId == displayed.ValueId));

        var jupyter = Assert.Single(run.Outputs(FrontEnd.Jupyter));
        Assert.StartsWith("step 3/3 (100%) · train loss 1.500", jupyter["text/plain"]);
        Assert.Contains("<svg", jupyter["text/html"]);

        // Polyglot Notebooks also shows the kernel's stray update as an output of its own: the chart
        // appears once, finished, and the stray output is empty.
        var polyglot = run.Outputs(FrontEnd.Polyglot);
        Assert.Single(polyglot, o => o["text/plain"]?.StartsWith("step 3/3", StringComparison.Ordinal) == true);
        Assert.All(polyglot.Skip(1), o => Assert.DoesNotContain("<svg", o["text/html"] ?? ""));
        Assert.Equal(jupyter.Data, polyglot[0].Data);
    }

    [Fact]
    public async Task AViewDisplayedTwice_UpdatesBothWhereTheyWereShown()
    {
        Repository.RequireReleaseBuild();
        using var kernel = new KernelSession();
        Assert.Empty((await kernel.SubmitAsync(References, Cancel)).Errors);

        var run = await kernel.SubmitAsync("""
            var live = new TrainingChart("twice", 2) { ShowPerplexity = false };
            var first = display(live);
            live.Record(1, 2.0);
            first.Update(live);
            var second = display(live);
            live.Record(2, 1.0);
            second.Update(live);
            """, Cancel);

        Assert.Empty(run.Errors);
        var outputs = run.Outputs(FrontEnd.Jupyter);
        Assert.Equal(2, outputs.Count);
        Assert.StartsWith("step 1/2", outputs[0]["text/plain"]);   // the first display, as it was last updated
        Assert.StartsWith("step 2/2", outputs[1]["text/plain"]);
    }
}
