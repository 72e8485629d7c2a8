using LlmCourse.Kernel.Tests.Support;

namespace LlmCourse.Kernel.Tests;

/// <summary>
/// A course chart's Plotly.NET conversion works in the real kernel: its dependencies load through
/// Roslyn's interactive loader, which gave Giraffe.ViewEngine (built against FSharp.Core 5.0) its own
/// FSharp.Core beside Plotly.NET's (10.1), and Plotly.NET then failed to start
/// (MissingMethodException: Giraffe.ViewEngine.Attributes.get__id) until the library set the order
/// its references bind in (LlmCourse.Charts.FSharpCoreLoadOrder).
/// </summary>
[Trait("Category", "Kernel")]
[Collection(KernelRunsCollection.Name)]
public sealed class PlotlyTests
{
    static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ToPlotly_InTheKernel_GivesAPlotlyNetChart_ThatRendersWithTheSameSeries()
    {
        Repository.RequireReleaseBuild();
        using var kernel = new KernelSession();
        var setup = await kernel.SubmitAsync(
            $"#r \"{Path.Combine(Repository.ReleaseFolder("LlmCourse.Tensors"), "LlmCourse.Tensors.dll")}\"\n" +
            $"#r \"{Path.Combine(Repository.ReleaseFolder("LlmCourse"), "LlmCourse.dll")}\"\n" +
            "using LlmCourse.Charts;", Cancel);
        Assert.Empty(setup.Errors);

        var run = await kernel.SubmitAsync(
            "var chart = new LineChart(\"Loss\", \"step\", \"loss\").Add(\"train\", new double[] { 1, 2, 3 }, new double[] { 4.2, 3.1, 2.5 })\n" +
            "    .Add(\"validation\", new double[] { 1, 3 }, new double[] { 4.3, 2.9 });\n" +
            "var html = Plotly.NET.GenericChart.toChartHTML(Plotly.NET.CSharp.GenericChartExtensions.WithSize(chart.ToPlotly(), 500, 300));\n" +
            "var bars = Plotly.NET.GenericChart.toChartHTML(new BarChart(\"Perplexity\", [\"bigram\", \"GPT\"]).Add(\"validation\", [12.5, 4.1]).ToPlotly());", Cancel);

        Assert.True(!run.Errors.Any(), string.Join("\n", run.Errors));
        var html = Assert.IsType<string>(kernel.Value("html"));
        Assert.Contains("\"name\":\"train\"", html);
        Assert.Contains("\"name\":\"validation\"", html);
        Assert.Contains("4.3", html);
        Assert.Contains("\"width\":500", html);
        Assert.Contains("bigram", Assert.IsType<string>(kernel.Value("bars")));
    }
}
