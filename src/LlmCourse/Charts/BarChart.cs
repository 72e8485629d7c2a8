using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;

namespace LlmCourse.Charts;

/// <summary>
/// Bars by category, one group per category when there are several series: bits per character by
/// model, win rates by method. Bars start at zero on a linear axis (anything else misleads).
/// </summary>
/// <example><code>
/// new BarChart("Validation perplexity", ["unigram", "bigram", "trigram"], yLabel: "perplexity")
///     .Add("perplexity", [27.4, 12.1, 9.8])
/// </code></example>
public sealed class BarChart : Chart
{
    readonly List<(string Name, double[] Values, string Color)> series = [];

    public BarChart(string title, IEnumerable<string> categories, string? xLabel = null, string? yLabel = null) : base(title)
    {
        Categories = categories.ToArray();
        XLabel = xLabel;
        YLabel = yLabel;
    }

    public IReadOnlyList<string> Categories { get; }
    public bool LogY { get; set; }
    public IReadOnlyList<(string Name, double[] Values, string Color)> Series => series;

    /// <summary>One value per category.</summary>
    public BarChart Add<T>(string name, IEnumerable<T> values) where T : INumberBase<T>
    {
        var ys = Charts.Series.ToDoubles(values, nameof(values));
        if (ys.Length != Categories.Count)
            throw new ArgumentException($"BarChart '{Title}', series '{name}': {ys.Length} values for {Categories.Count} categories.");
        series.Add((name, ys, Palette.SeriesColor(series.Count)));
        return this;
    }

    protected override void Draw(StringBuilder svg)
    {
        var yScale = Scale.For(series.SelectMany(s => s.Values), LogY, includeZero: !LogY);
        var group = (Width - 140.0) / Math.Max(1, Categories.Count);
        var rotate = Categories.Any(c => Frame.TextWidth(c) > group - 6);
        var longest = Categories.Count == 0 ? 0 : Categories.Max(c => Frame.TextWidth(c));
        var frame = new Frame(this, series.Select(s => (s.Name, s.Color)).ToList(), Frame.LabelChars(yScale),
            bottomExtra: rotate ? (int)Math.Min(120, longest * 0.6) : 0);
        frame.DrawYAxis(svg, yScale);

        var width = frame.PlotWidth / Math.Max(1, Categories.Count);
        var barWidth = width * 0.8 / Math.Max(1, series.Count);
        var baseline = frame.Y(yScale, LogY ? yScale.Min : 0);
        var labelValues = Categories.Count * series.Count <= 24;
        for (var c = 0; c < Categories.Count; c++)
        {
            var left = frame.Left + c * width + width * 0.1;
            for (var s = 0; s < series.Count; s++)
            {
                var value = series[s].Values[c];
                if (!yScale.CanShow(value)) continue;
                var top = frame.Y(yScale, value);
                var x = left + s * barWidth;
                svg.Append($"<rect x=\"{Svg.N(x + 1)}\" y=\"{Svg.N(Math.Min(top, baseline))}\" width=\"{Svg.N(Math.Max(1, barWidth - 2))}\" ")
                    .Append($"height=\"{Svg.N(Math.Abs(baseline - top))}\" fill=\"{series[s].Color}\">")
                    .Append($"<title>{Svg.Escape($"{Categories[c]} · {series[s].Name}: {Svg.Number(value, 5)}")}</title></rect>");
                if (labelValues)
                    Svg.Text(svg, x + barWidth / 2, Math.Min(top, baseline) - 5, Svg.Number(value, 3), size: 12, fill: Svg.Muted);
            }
            var center = frame.Left + (c + 0.5) * width;
            if (rotate)
                Svg.Text(svg, center, frame.Bottom + 16, Categories[c], anchor: "end", size: 13,
                    extra: $" transform=\"rotate(-35 {Svg.N(center)} {Svg.N(frame.Bottom + 16)})\"");
            else
                Svg.Text(svg, center, frame.Bottom + 20, Categories[c], size: 13);
        }
        svg.Append($"<line x1=\"{Svg.N(frame.Left)}\" y1=\"{Svg.N(baseline)}\" x2=\"{Svg.N(frame.Right)}\" y2=\"{Svg.N(baseline)}\" stroke=\"{Svg.Axis}\"/>");
        frame.DrawDecorations(svg);
    }

    public override JsonObject ToPlotlyFigure()
    {
        var traces = new JsonArray();
        foreach (var (name, values, color) in series)
            traces.Add(new JsonObject
            {
                ["type"] = "bar",
                ["name"] = name,
                ["x"] = Strings(Categories),
                ["y"] = Numbers(values),
                ["marker"] = new JsonObject { ["color"] = color },
            });
        var layout = PlotlyLayout(logY: LogY);
        layout["barmode"] = "group";
        layout["xaxis"]!["type"] = "category";
        return new JsonObject { ["data"] = traces, ["layout"] = layout };
    }

    /// <summary>One column trace per series over the categories, grouped as in the SVG.</summary>
    public override Plotly.NET.GenericChart ToPlotly()
    {
        var columns = series.Select(s => Plotly.NET.CSharp.Chart.Column<double, string, string>(s.Values, Keys: Categories.ToArray(),
            Name: s.Name, MarkerColor: Plotly.NET.Color.fromString(s.Color)));
        // Several column traces are drawn side by side: plotly.js's default bar mode is "group".
        return PlotlyConversion.Styled(Plotly.NET.CSharp.Chart.Combine(columns), this,
            Plotly.NET.StyleParam.AxisType.Category, PlotlyConversion.AxisType(LogY), DrawnHeight);
    }

    public override string ToString() =>
        $"BarChart '{Title}': " + string.Join("; ", series.Select(s =>
            $"{s.Name}: " + string.Join(", ", Categories.Select((c, i) => $"{c} {Svg.Number(s.Values[i], 4)}"))));
}
