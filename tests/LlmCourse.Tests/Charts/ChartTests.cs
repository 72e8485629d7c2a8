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
        // x ticks 0..300 and y ticks 2..4.5 (nice steps, ends at or beyond the data, no more room than a step needs).
        Assert.Contains("300", texts);
        Assert.Contains("0", texts);
        Assert.Contains("4.5", texts);
        Assert.Contains("2", texts);
        Assert.DoesNotContain("400", texts);
        Assert.DoesNotContain("5", texts);
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
    public void Bar_ValueLabelsNeverRunIntoEachOther_AndSlantedCategoriesStayInside()
    {
        // 7 categories × 3 series: bars about 20 px wide, too narrow for "0.025" across: the values stand upright,
        // inside the plot (room is made above the tallest bar).
        var categories = new[] { "char 1-gram (add-1)", "count", "reverse", "upper", "add", "next", "yesno" };
        double[][] values = [[0.625, 0.475, 0.25, 0.4, 0.025, 0.075, 0.725], [0.025, 0.45, 0.0, 0.075, 0.025, 0.1, 0.8], [0.3, 0.55, 0.075, 0.275, 0.05, 0.075, 0.625]];
        var chart = new BarChart("Accuracy", categories);
        for (var s = 0; s < values.Length; s++) chart.Add($"series {s}", values[s]);

        var svg = ChartSvg.Parse(chart.ToSvg());

        var plotTop = svg.All("line").Where(l => l.Attr("y1") == l.Attr("y2") && l.Attribute("stroke")!.Value == "#e6e6e6").Min(l => l.Attr("y1"));
        var labels = svg.All("text").Where(t => t.Value is "0.025" or "0.8" && t.Attribute("text-anchor")!.Value != "end").ToList();   // not the axis tick
        Assert.Equal(4, labels.Count);
        foreach (var label in labels)
        {
            Assert.StartsWith("rotate(-90", label.Attribute("transform")!.Value);
            var reach = label.Attr("y") - LlmCourse.Charts.Frame.TextWidth(label.Value, (int)label.Attr("font-size"));
            Assert.True(reach >= plotTop - 1, $"'{label.Value}' reaches y = {reach:F0}, above the plot's top {plotTop:F0}");
        }
        // With few bars the values read across, each within its own bar's width.
        var wide = ChartSvg.Parse(new BarChart("Bits", ["a", "b", "c"]).Add("bits", new[] { 4.83, 3.58, 2.25 }).ToSvg());
        var barWidth = wide.All("rect").First(r => r.Elements().Any()).Attr("width");
        Assert.All(wide.All("text").Where(t => t.Value is "4.83" or "3.58" or "2.25").ToList(), t =>
        {
            Assert.Null(t.Attribute("transform"));
            Assert.True(LlmCourse.Charts.Frame.TextWidth(t.Value, (int)t.Attr("font-size")) <= barWidth);
        });
        // The longest category, slanted at 35° from its bar's centre, must not start left of the chart.
        var longest = svg.All("text").Single(t => t.Value == categories[0]);
        var left = longest.Attr("x") - LlmCourse.Charts.Frame.TextWidth(longest.Value, (int)longest.Attr("font-size")) * Math.Cos(Math.PI * 35 / 180);
        Assert.True(left >= 0, $"'{categories[0]}' starts at x = {left:F0}");
    }

    [Theory]
    [InlineData(720)]
    [InlineData(300)]
    public void Titles_WiderThanTheChart_AreSetSmallerOrCut(int width)
    {
        const string title = "CPU stand-in: GPT 4×128 on tinyshakespeare: perplexity of the validation text, every 100 steps";
        foreach (var chart in new Chart[] { new LineChart(title) { Width = width }.Add("a", new[] { 1.0, 2.0 }),
                                            new Heatmap(title, new double[2, 2]) { Width = width } })
        {
            var svg = ChartSvg.Parse(chart.ToSvg());
            var drawn = svg.All("text").Single(t => (string?)t.Attribute("font-weight") == "600");
            var size = (int)drawn.Attr("font-size");
            Assert.True(LlmCourse.Charts.Frame.TextWidth(drawn.Value, size) <= width - 16, $"{chart.GetType().Name} {width}: '{drawn.Value}' at {size} px");
            Assert.InRange(size, 11, 18);
            Assert.True(drawn.Value == title || (drawn.Value.EndsWith('…') && title.StartsWith(drawn.Value[..^1], StringComparison.Ordinal)));
            Assert.Equal(title, svg.All("title").First().Value);   // the whole title stays, for hover and screen readers
        }
        var fits = ChartSvg.Parse(new LineChart("Loss") { Width = width }.Add("a", new[] { 1.0, 2.0 }).ToSvg()).All("text")
            .Single(t => (string?)t.Attribute("font-weight") == "600");
        Assert.Equal(("Loss", 18.0), (fits.Value, fits.Attr("font-size")));
    }

    [Fact]
    public void LargeNumbers_ReadAsTeraAndPeta()
    {
        Assert.Equal("1T", Svg.Number(1e12));
        Assert.Equal("10T", Svg.Number(1e13));
        Assert.Equal("2.5P", Svg.Number(2.5e15));
        Assert.Equal("999G", Svg.Number(999e9));
        Assert.Equal("1.5e18", Svg.Number(1.5e18));
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
