using System.Xml.Linq;
using LlmCourse.Charts;

namespace LlmCourse.Tests.Charts;

/// <summary>Token and table views, the live training chart, and the formatter convention they carry.</summary>
public sealed class ViewTests
{
    [Fact]
    public void TokenView_OneSpanPerToken_IdsOnHover_WhitespaceVisible_Escaped()
    {
        var view = new TokenView(["The", " cat", "\n", "<b>"], [464, 3797, 198, 27], "GPT-2");

        var html = XElement.Parse(view.ToHtml());

        var spans = html.Descendants("span").Where(s => s.Attribute("title") is not null).ToList();
        Assert.Equal(4, spans.Count);
        Assert.Equal("id 3797 · \" cat\" · 4 chars", spans[1].Attribute("title")!.Value);
        Assert.Equal("↵\n", spans[2].Value);
        Assert.Equal("<b>", spans[3].Value);
        Assert.NotEqual(spans[0].Attribute("style")!.Value, spans[1].Attribute("style")!.Value);
        Assert.Contains("4 tokens · 11 characters · 2.75 characters per token", view.ToString());
        Assert.EndsWith("The| cat|↵|<b>", view.ToString());
        Assert.Throws<ArgumentException>(() => new TokenView(["a", "b"], [1]));
    }

    record Result(string Model, double Perplexity, int Parameters);

    [Fact]
    public void TableView_FromRecords_AlignsNumbers_AndHighlightsTheBest()
    {
        var view = TableView.From([new Result("bigram", 12.345678, 4225), new Result("<mlp>", 7.5, 100_000)], "Leaderboard")
            .Highlight("Perplexity");

        var html = XElement.Parse(view.ToHtml());

        Assert.Equal(["Model", "Perplexity", "Parameters"], html.Descendants("th").Select(t => t.Value));
        var cells = html.Descendants("td").ToList();
        Assert.Equal("<mlp>", cells[3].Value);
        Assert.Equal("12.35", cells[1].Value);
        Assert.Contains("text-align:right", cells[1].Attribute("style")!.Value);
        Assert.Contains("font-weight:700", cells[4].Attribute("style")!.Value);
        Assert.DoesNotContain("font-weight", cells[1].Attribute("style")!.Value);
        var lines = view.ToString().Split('\n');
        Assert.Equal("Leaderboard", lines[0].TrimEnd());
        Assert.Equal(lines[3].TrimEnd().Length, lines[4].TrimEnd().Length);
        Assert.Throws<ArgumentException>(() => view.Highlight("Nope"));
    }

    [Fact]
    public void TrainingChart_ProgressLine_HasStepLossPerplexityThroughputAndEta()
    {
        var now = TimeSpan.Zero;
        var live = new TrainingChart("GPT", 1000, () => now);

        Assert.Contains("waiting", live.ProgressLine());
        live.Record(1, 4.0, tokensPerSecond: 12_345);
        now = TimeSpan.FromSeconds(30);
        live.Record(101, 2.0);
        live.RecordValidation(101, 2.5);

        var line = live.ProgressLine();
        Assert.Contains("step 101/1,000 (10%)", line);
        Assert.Contains("train loss 2.000 (ppl 7.389)", line);
        Assert.Contains("val loss 2.500 (ppl 12.18)", line);
        Assert.Contains("12.3k tok/s", line);
        Assert.Contains("0:30 elapsed", line);
        Assert.Contains("ETA 4:29", line); // 100 steps in 30 s, 899 to go: 269.7 s
        Assert.False(live.IsComplete);
        live.Record(1000, 1.5);
        Assert.Contains("done", live.ProgressLine());
        Assert.True(live.IsComplete);
        Assert.Throws<ArgumentException>(() => live.Record(5, 1.0));
    }

    [Fact]
    public void TrainingChart_Html_HasLossAndLogPerplexityCharts()
    {
        var live = new TrainingChart("RNN", 10);
        for (var step = 1; step <= 10; step++) live.Record(step, 4.0 / step, step % 5 == 0 ? 4.5 / step : null);

        var html = live.ToHtml();
        var svgs = html.Split("<svg").Length - 1;

        Assert.Equal(2, svgs);
        Assert.True(live.PerplexityChart().LogY);
        Assert.Equal(2, live.LossChart().Series.Count);
        Assert.Equal([5, 10], live.LossChart().Series[1].X);
        Assert.Equal(live.ProgressLine(), live.ToString());
        XDocument.Parse("<root>" + html + "</root>");
    }

    [Fact]
    public void TrainingChart_ForANonCrossEntropyLoss_HidesPerplexity()
    {
        var live = new TrainingChart("Regression", 10) { LossLabel = "mean squared error", ShowPerplexity = false };
        live.Record(1, 0.004);

        Assert.Equal(1, live.ToHtml().Split("<svg").Length - 1);
        Assert.DoesNotContain("ppl", live.ProgressLine());
        Assert.Contains("train loss 4.000e-3", live.ProgressLine());
        Assert.Equal("mean squared error", live.LossChart().YLabel);
    }

    [Fact]
    public void Views_CarryTheKernelFormatterConvention()
    {
        // What the kernel does, by name and reflection only (it cannot know our types).
        var attribute = typeof(TrainingChart).GetCustomAttributes(inherit: true).Single(a => a.GetType().Name == "TypeFormatterSourceAttribute");
        var sourceType = (Type)attribute.GetType().GetProperty("FormatterSourceType")!.GetValue(attribute)!;
        var source = Activator.CreateInstance(sourceType)!;
        var formatters = ((System.Collections.IEnumerable)sourceType.GetMethod("CreateTypeFormatters")!.Invoke(source, null)!).Cast<object>().ToList();

        var byMime = formatters.ToDictionary(f => (string)f.GetType().GetProperty("MimeType")!.GetValue(f)!);
        Assert.Equal(["text/html", "text/plain"], byMime.Keys.Order());
        var chart = new LineChart("x").Add("a", new[] { 1, 2 });
        var writer = new StringWriter();
        var html = byMime["text/html"];
        Assert.True((bool)html.GetType().GetMethod("Format")!.Invoke(html, [chart, writer])!);
        Assert.StartsWith("<div class=\"llmcourse-chart\"", writer.ToString());
        Assert.False((bool)html.GetType().GetMethod("Format")!.Invoke(html, ["not a view", new StringWriter()])!);
        Assert.Equal(typeof(View), html.GetType().GetProperty("Type")!.GetValue(html));
    }
}
