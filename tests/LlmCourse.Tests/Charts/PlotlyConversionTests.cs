using System.Text.Json.Nodes;
using LlmCourse.Charts;
using GenericChart = Plotly.NET.GenericChart;

namespace LlmCourse.Tests.Charts;

/// <summary>
/// Every course chart converted to a Plotly.NET chart carries the same series: read back from the
/// figure JSON Plotly.NET itself writes (what plotly.js draws), not from our own objects.
/// </summary>
public sealed class PlotlyConversionTests
{
    static JsonNode Figure(GenericChart chart) => JsonNode.Parse(chart.ToFigureJson())!;

    static double[] Numbers(JsonNode? array) => array!.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    static string[] Strings(JsonNode? array) => array!.AsArray().Select(v => v!.GetValue<string>()).ToArray();

    static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public void LineChart_EachSeriesBecomesAScatterTrace_WithItsNamePointsModeColourAndDash()
    {
        var chart = new LineChart("Loss", "step", "loss")
            .Add("train", new[] { 0, 100, 200 }, new[] { 4.2, 2.9, 2.3 })
            .Add("validation", new[] { 0, 200 }, new[] { 4.3, 2.5 }, SeriesStyle.LinesAndMarkers, dashed: true);

        var figure = Figure(chart.ToPlotly());

        var data = figure["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        Assert.Equal(["train", "validation"], data.Select(t => Text(t!["name"])));
        Assert.All(data, t => Assert.Equal("scatter", Text(t!["type"])));
        Assert.Equal([0.0, 100, 200], Numbers(data[0]!["x"]));
        Assert.Equal([4.2, 2.9, 2.3], Numbers(data[0]!["y"]));
        Assert.Equal([0.0, 200], Numbers(data[1]!["x"]));
        Assert.Equal([4.3, 2.5], Numbers(data[1]!["y"]));
        Assert.Equal("lines", Text(data[0]!["mode"]));
        Assert.Equal("lines+markers", Text(data[1]!["mode"]));
        Assert.Equal(Palette.Series[0], Text(data[0]!["line"]!["color"]));
        Assert.Equal(Palette.Series[1], Text(data[1]!["marker"]!["color"]));
        Assert.Equal("solid", Text(data[0]!["line"]!["dash"]));
        Assert.Equal("dash", Text(data[1]!["line"]!["dash"]));

        var layout = figure["layout"]!;
        Assert.Equal("Loss", Text(layout["title"]!["text"]));
        Assert.Equal("step", Text(layout["xaxis"]!["title"]!["text"]));
        Assert.Equal("loss", Text(layout["yaxis"]!["title"]!["text"]));
        Assert.Equal("linear", Text(layout["xaxis"]!["type"]));
        Assert.Equal("linear", Text(layout["yaxis"]!["type"]));
        Assert.Equal(720, layout["width"]!.GetValue<int>());
        Assert.Equal(420, layout["height"]!.GetValue<int>());
    }

    [Fact]
    public void SmoothedLineChart_HasTheRawAndTheSmoothedTrace_AsTheSvgDraws()
    {
        var chart = new LineChart("Loss") { Smoothing = 0.5 }.Add("train", new[] { 1, 2 }, new[] { 4.0, 2.0 });

        var data = Figure(chart.ToPlotly())["data"]!.AsArray();

        Assert.Equal(["train (raw)", "train"], data.Select(t => Text(t!["name"])));
        Assert.Equal([4.0, 2.0], Numbers(data[0]!["y"]));
        // Debiased EMA by hand: (0.5·4)/(1−0.5) = 4, then (0.5·2 + 0.5·2)/(1−0.25) = 8/3.
        var smoothed = Numbers(data[1]!["y"]);
        Assert.Equal(4.0, smoothed[0], 12);
        Assert.Equal(8.0 / 3, smoothed[1], 12);
    }

    [Fact]
    public void ScatterChart_KeepsLogAxesMarkersAndHoverLabels()
    {
        var chart = new ScatterChart("Loss vs parameters", "parameters", "loss") { LogX = true, LogY = true }
            .Add("runs", new[] { 1e4, 1e5, 1e6 }, new[] { 3.1, 2.6, 2.2 }, labels: ["small", "medium", "large"]);

        var figure = Figure(chart.ToPlotly());

        var trace = figure["data"]![0]!;
        Assert.Equal("markers", Text(trace["mode"]));
        Assert.Equal([1e4, 1e5, 1e6], Numbers(trace["x"]));
        Assert.Equal([3.1, 2.6, 2.2], Numbers(trace["y"]));
        Assert.Equal(["small", "medium", "large"], Strings(trace["text"]));
        Assert.Equal("log", Text(figure["layout"]!["xaxis"]!["type"]));
        Assert.Equal("log", Text(figure["layout"]!["yaxis"]!["type"]));
    }

    [Fact]
    public void NonFiniteValues_StayInTheData_AsPointsPlotlyLeavesOut()
    {
        var chart = new LineChart("t").Add("a", new[] { 1.0, double.NaN, 3.0 });

        var y = Figure(chart.ToPlotly())["data"]![0]!["y"]!.AsArray();

        Assert.Equal(3, y.Count);
        Assert.Equal(1.0, y[0]!.GetValue<double>());
        // Not a number plotly.js can draw: a gap in the line, as in the SVG.
        Assert.NotEqual(System.Text.Json.JsonValueKind.Number, y[1]!.GetValueKind());
    }

    [Fact]
    public void BarChart_EachSeriesBecomesABarTraceOverTheCategories()
    {
        var chart = new BarChart("Bits per char", ["unigram", "bigram", "trigram"], yLabel: "bits") { LogY = true }
            .Add("train", new[] { 4.1, 3.2, 2.8 })
            .Add("validation", new[] { 4.2, 3.4, 3.1 });

        var figure = Figure(chart.ToPlotly());

        var data = figure["data"]!.AsArray();
        Assert.Equal(["train", "validation"], data.Select(t => Text(t!["name"])));
        Assert.All(data, t => Assert.Equal("bar", Text(t!["type"])));
        Assert.All(data, t => Assert.Equal(["unigram", "bigram", "trigram"], Strings(t!["x"])));
        Assert.Equal([4.2, 3.4, 3.1], Numbers(data[1]!["y"]));
        Assert.Equal(Palette.Series[1], Text(data[1]!["marker"]!["color"]));
        Assert.Equal("category", Text(figure["layout"]!["xaxis"]!["type"]));
        Assert.Equal("log", Text(figure["layout"]!["yaxis"]!["type"]));
        Assert.Equal("bits", Text(figure["layout"]!["yaxis"]!["title"]!["text"]));
    }

    [Fact]
    public void Heatmap_BecomesOneHeatmapTrace_WithTheMatrixLabelsAndColourRange()
    {
        var values = new double[2, 3] { { 0.1, 0.2, 0.7 }, { 0.5, 0.25, 0.25 } };
        var chart = new Heatmap("Attention", values, ["q0", " "], ["k0", "k1", "\n"]) { Min = 0, Max = 1 };

        var figure = Figure(chart.ToPlotly());

        var trace = figure["data"]!.AsArray().Single()!;
        Assert.Equal("heatmap", Text(trace["type"]));
        var z = trace["z"]!.AsArray();
        Assert.Equal(2, z.Count);
        Assert.Equal([0.1, 0.2, 0.7], Numbers(z[0]));
        Assert.Equal([0.5, 0.25, 0.25], Numbers(z[1]));
        Assert.Equal(["k0", "k1", "↵"], Strings(trace["x"]));
        Assert.Equal(["q0", "␣"], Strings(trace["y"]));
        Assert.Equal(0, trace["zmin"]!.GetValue<double>());
        Assert.Equal(1, trace["zmax"]!.GetValue<double>());
        Assert.Equal("Viridis", Text(trace["colorscale"]));
        // Row 0 at the top, as in a matrix and in the SVG.
        Assert.Equal("reversed", Text(figure["layout"]!["yaxis"]!["autorange"]));
    }

    [Fact]
    public void TrainingChart_ShowsLossAndLogPerplexity_SideBySide()
    {
        var live = new TrainingChart("run", totalSteps: 3);
        live.Record(1, 3.0);
        live.Record(2, 2.0, validationLoss: 2.5);
        live.Record(3, 1.0);

        var figure = Figure(live.ToPlotly());

        var data = figure["data"]!.AsArray();
        Assert.Equal(["train", "validation", "train", "validation"], data.Select(t => Text(t!["name"])));
        Assert.Equal([3.0, 2.0, 1.0], Numbers(data[0]!["y"]));
        Assert.Equal([Math.Exp(3), Math.Exp(2), Math.Exp(1)], Numbers(data[2]!["y"]));
        Assert.Equal([Math.Exp(2.5)], Numbers(data[3]!["y"]));
        // The perplexity traces sit on the second pair of axes, whose y axis is logarithmic.
        Assert.Equal("x2", Text(data[2]!["xaxis"]));
        Assert.Equal("y2", Text(data[2]!["yaxis"]));
        Assert.Equal("log", Text(figure["layout"]!["yaxis2"]!["type"]));
        Assert.Equal("linear", Text(figure["layout"]!["yaxis"]!["type"]));
    }

    [Fact]
    public void ChartHtml_LoadsPlotlyFromItsCdnWhenMissing_AndEmbedsTheFigureSafely()
    {
        var html = new BarChart("</script><b>x</b>", ["a"]).Add("s", new[] { 1.5 }).ToPlotly().ToChartHtml();

        Assert.Contains($"script.src = \"{Chart.PlotlyCdn}\"", html);
        Assert.Contains("\"type\":\"bar\"", html);
        Assert.Contains("newPlot(", html);
        // The title's "</script>" cannot end the script early: only the closing tag remains.
        Assert.Equal(1, html.Split("</script>").Length - 1);
    }
}
