using System.Text.Json.Nodes;
using LlmCourse.Charts;

namespace LlmCourse.Tests.Charts;

/// <summary>Line, scatter, bar and heatmap charts: SVG structure, axes, legends, escaping, Plotly figures.</summary>
public sealed class ChartTests
{
    static LineChart TrainAndValidation() => new LineChart("Loss", "step", "loss")
        .Add("train", new[] { 0, 100, 200, 300 }, new[] { 4.2, 2.9, 2.3, 2.0 })
        .Add("validation", new[] { 0, 150, 300 }, new[] { 4.3, 2.7, 2.2 });

    [Fact]
    public void Line_IsWellFormedSvg_WithAxesCoveringTheDataAndALegend()
    {
        var svg = ChartSvg.Parse(TrainAndValidation().ToSvg());

        Assert.Equal("720", svg.Attribute("width")!.Value);
        Assert.Equal(2, svg.All("polyline").Count());
        var texts = svg.Texts().ToList();
        Assert.Contains("train", texts);
        Assert.Contains("validation", texts);
        Assert.Contains("Loss", texts);
        Assert.Contains("step", texts);
        // x ticks 0..300 and y ticks 2..5 (nice steps, ends at or beyond the data).
        Assert.Contains("300", texts);
        Assert.Contains("0", texts);
        Assert.Contains("5", texts);
        Assert.Contains("2", texts);
        Assert.DoesNotContain("400", texts);
        // Each point has a hover title naming the series and its values.
        Assert.Contains(svg.All("title"), t => t.Value == "train: step = 200, loss = 2.3");
    }

    [Fact]
    public void Line_PointsFallInsideThePlotAndOrderFollowsTheData()
    {
        var svg = ChartSvg.Parse(new LineChart("t").Add("a", new[] { 1.0, 3.0, 2.0 }).ToSvg());

        var points = svg.All("polyline").Single().Attribute("points")!.Value.Trim().Split(' ')
            .Select(p => p.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(3, points.Length);
        Assert.True(points[0][0] < points[1][0] && points[1][0] < points[2][0]);
        // SVG y grows downwards: the largest value is drawn highest.
        Assert.True(points[1][1] < points[2][1] && points[2][1] < points[0][1]);
        Assert.All(points, p => Assert.InRange(p[1], 0, 420));
    }

    [Fact]
    public void Line_LogY_HasPowerOfTenTicks_AndSkipsValuesItCannotShow()
    {
        var chart = new LineChart("Perplexity") { LogY = true }.Add("ppl", new[] { 1000.0, 120, 30, double.NaN, 0, 9 });

        var svg = ChartSvg.Parse(chart.ToSvg());

        var texts = svg.Texts().ToList();
        Assert.Contains("1", texts);
        Assert.Contains("10", texts);
        Assert.Contains("100", texts);
        Assert.Contains("1000", texts);
        Assert.Equal(4, svg.All("polyline").Single().Attribute("points")!.Value.Trim().Split(' ').Length);
    }

    [Fact]
    public void Line_Smoothing_DrawsRawAndSmoothedCurves_ButOneLegendEntryPerSeries()
    {
        var chart = new LineChart("Noisy") { Smoothing = 0.9 }
            .Add("a", Enumerable.Range(0, 50).Select(i => Math.Sin(i)))
            .Add("b", Enumerable.Range(0, 50).Select(i => Math.Cos(i)));

        var svg = ChartSvg.Parse(chart.ToSvg());

        Assert.Equal(4, svg.All("polyline").Count());
        Assert.Equal(2, svg.All("g").Count(g => g.Elements().Any(e => e.Name.LocalName == "rect")));
        Assert.Throws<ArgumentOutOfRangeException>(() => chart.Smoothing = 1);
    }

    [Fact]
    public void Ema_IsDebiased_AndMatchesTheRecurrence()
    {
        Assert.All(LineChart.Ema([5, 5, 5, 5], 0.9), v => Assert.Equal(5, v, 12));
        // By hand: a1 = 0.5*0 + 0.5*2 = 1, debiased 1/(1-0.5) = 2; a2 = 0.5*1 + 0.5*4 = 2.5, debiased 2.5/0.75.
        var ema = LineChart.Ema([2, 4], 0.5);
        Assert.Equal(2, ema[0], 12);
        Assert.Equal(2.5 / 0.75, ema[1], 12);
    }

    [Fact]
    public void Line_MismatchedLengths_NameTheChartAndSeries()
    {
        var e = Assert.Throws<ArgumentException>(() => new LineChart("Loss").Add("train", new[] { 1, 2 }, new[] { 1.0 }));
        Assert.Contains("'Loss'", e.Message);
        Assert.Contains("'train'", e.Message);
        Assert.Contains("2 x values but 1 y values", e.Message);
    }

    [Fact]
    public void Line_Empty_SaysSo()
    {
        Assert.Contains("no data yet", ChartSvg.Parse(new LineChart("Empty").ToSvg()).Texts());
    }

    [Fact]
    public void Labels_AreEscaped()
    {
        var chart = new LineChart("a < b & \"c\"", "x's", "<y>").Add("<script>alert(1)</script>", new[] { 1, 2 })
            .Add("&amp;", new[] { 2, 1 });

        var text = chart.ToSvg();
        var svg = ChartSvg.Parse(text);

        Assert.DoesNotContain("<script>", text);
        Assert.Contains("a < b & \"c\"", svg.Texts());
        Assert.Contains("<script>alert(1)</script>", svg.Texts());
        Assert.Contains("&amp;", svg.Texts());
    }

    [Fact]
    public void Scatter_LogLog_UsesMarkersWithLabelsOnHover()
    {
        var chart = new ScatterChart("Scaling", "parameters", "loss") { LogX = true, LogY = true }
            .Add("runs", new[] { 1e4, 1e5, 1e6, 1e7 }, new[] { 3.1, 2.6, 2.2, 1.9 }, labels: ["tiny", "small", "medium", "large"]);

        var svg = ChartSvg.Parse(chart.ToSvg());

        Assert.Empty(svg.All("polyline"));
        Assert.Equal(4, svg.All("circle").Count());
        Assert.Contains(svg.All("title"), t => t.Value.StartsWith("runs: medium: parameters = 1M", StringComparison.Ordinal));
        var texts = svg.Texts().ToList();
        Assert.Contains("10k", texts);
        Assert.Contains("10M", texts);
        var figure = JsonNode.Parse(chart.ToPlotlyJson())!;
        Assert.Equal("log", figure["layout"]!["xaxis"]!["type"]!.GetValue<string>());
        Assert.Equal("log", figure["layout"]!["yaxis"]!["type"]!.GetValue<string>());
        Assert.Equal("markers", figure["data"]![0]!["mode"]!.GetValue<string>());
        Assert.Equal("medium", figure["data"]![0]!["text"]![2]!.GetValue<string>());
    }

    [Fact]
    public void PlotlyJson_HasOneTracePerSeries_WithTheData()
    {
        var figure = JsonNode.Parse(TrainAndValidation().ToPlotlyJson())!;

        var data = figure["data"]!.AsArray();
        Assert.Equal(["train", "validation"], data.Select(t => t!["name"]!.GetValue<string>()));
        Assert.All(data, t => Assert.Equal("scatter", t!["type"]!.GetValue<string>()));
        Assert.Equal([0, 150, 300], data[1]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([4.3, 2.7, 2.2], data[1]!["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal("Loss", figure["layout"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal("step", figure["layout"]!["xaxis"]!["title"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void PlotlyHtml_LoadsPlotlyFromItsCdn_AndEmbedsTheFigureSafely()
    {
        var html = new LineChart("</script><b>x</b>").Add("a", new[] { 1, 2 }).ToPlotlyHtml();

        Assert.Contains($"<script src=\"{Chart.PlotlyCdn}\"", html);
        Assert.Contains("Plotly.newPlot(", html);
        Assert.Equal(2, html.Split("</script>").Length - 1);
    }

    [Fact]
    public void Bar_OneRectPerCategoryAndSeries_StartingAtZero()
    {
        var chart = new BarChart("Bits per char", ["unigram", "bigram", "trigram"], yLabel: "bits")
            .Add("train", new[] { 4.1, 3.2, 2.8 })
            .Add("validation", new[] { 4.2, 3.4, 3.1 });

        var svg = ChartSvg.Parse(chart.ToSvg());

        var bars = svg.All("rect").Where(r => r.Elements().Any(e => e.Name.LocalName == "title")).ToList();
        Assert.Equal(6, bars.Count);
        Assert.Contains("0", svg.Texts());
        Assert.Contains(bars, b => b.Value == "bigram · validation: 3.4");
        var figure = JsonNode.Parse(chart.ToPlotlyJson())!;
        Assert.Equal(2, figure["data"]!.AsArray().Count);
        Assert.Equal("bar", figure["data"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(["unigram", "bigram", "trigram"], figure["data"]![0]!["x"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Throws<ArgumentException>(() => chart.Add("short", new[] { 1.0 }));
    }

    [Fact]
    public void Heatmap_HasOneCellPerValue_WithLabelsAndAColourBar()
    {
        var values = new double[3, 4];
        for (var r = 0; r < 3; r++) for (var c = 0; c < 4; c++) values[r, c] = r * 4 + c;
        var chart = new Heatmap("Counts", values, ["a", " ", "\n"], ["w", "x", "y", "<&>"]);

        var svg = ChartSvg.Parse(chart.ToSvg());

        var cells = svg.All("rect").Where(r => r.Elements().Any(e => e.Name.LocalName == "title")).ToList();
        Assert.Equal(12, cells.Count);
        Assert.Equal("↵ → <&>: 11", cells[^1].Value);
        Assert.Contains("␣", svg.Texts());
        Assert.Contains("<&>", svg.Texts());
        // Smallest value darkest, largest lightest (viridis ends).
        Assert.Equal("#440154", cells[0].Attribute("fill")!.Value);
        Assert.Equal("#fde725", cells[^1].Attribute("fill")!.Value);
        var figure = JsonNode.Parse(chart.ToPlotlyJson())!;
        var z = figure["data"]![0]!["z"]!.AsArray();
        Assert.Equal(3, z.Count);
        Assert.Equal(4, z[0]!.AsArray().Count);
        Assert.Equal(6, z[1]![2]!.GetValue<double>());
        Assert.Equal("heatmap", figure["data"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Heatmap_FixedRange_AndRaggedRowsAreRejected()
    {
        var chart = Heatmap.FromRows("Attention", new[] { new[] { 0.5f, 0.5f }, new[] { 1f, 0f } });
        chart.Min = 0;
        chart.Max = 2;
        var cells = ChartSvg.Parse(chart.ToSvg()).All("rect").Where(r => r.Elements().Any()).ToList();
        // 1 of [0, 2] is the middle of viridis: matplotlib's viridis(0.5) is #21918c.
        var fill = Convert.FromHexString(cells[2].Attribute("fill")!.Value[1..]);
        Assert.All(fill.Zip(Convert.FromHexString("21918c")), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 3));
        var e = Assert.Throws<ArgumentException>(() => Heatmap.FromRows("Ragged", new[] { new[] { 1.0, 2.0 }, new[] { 1.0 } }));
        Assert.Contains("different lengths", e.Message);
        Assert.Throws<ArgumentException>(() => new Heatmap("Labels", new double[2, 2], ["only one"]));
    }

    [Fact]
    public void Heatmap_GrowsWithItsRows()
    {
        var small = ChartSvg.Parse(new Heatmap("s", new double[3, 3]).ToSvg()).Attr("height");
        var large = ChartSvg.Parse(new Heatmap("l", new double[40, 3]).ToSvg()).Attr("height");
        Assert.True(large > small, $"{large} <= {small}");
    }

    [Fact]
    public void Save_PicksTheFormatByExtension()
    {
        var dir = Directory.CreateTempSubdirectory("llmcourse-chart-").FullName;
        try
        {
            var chart = TrainAndValidation();
            chart.Save(Path.Combine(dir, "c.svg"));
            chart.Save(Path.Combine(dir, "c.json"));
            chart.Save(Path.Combine(dir, "c.html"));
            ChartSvg.Parse(File.ReadAllText(Path.Combine(dir, "c.svg")));
            Assert.NotNull(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "c.json")))!["data"]);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(dir, "c.html")));
            Assert.Throws<ArgumentException>(() => chart.Save(Path.Combine(dir, "c.png")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
