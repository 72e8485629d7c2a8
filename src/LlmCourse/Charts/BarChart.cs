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
        var group = (Width - 140.0) / Math.Max(1, Categories.Count);
        // Values over the bars when there are few bars: across at up to 12 px where they fit the bar, else upright
        // at 11 px, with room made above the tallest bar (the hover text has them too).
        var shown = series.SelectMany(s => s.Values).Where(v => double.IsFinite(v) && (!LogY || v > 0)).ToArray();
        var labelValues = Categories.Count * series.Count <= 24 && shown.Length > 0;
        var widestLabel = shown.Select(v => Frame.TextWidth(Svg.Number(v, 3), 12)).DefaultIfEmpty(0).Max();
        var across = widestLabel * 10 / 12 <= group * 0.8 / Math.Max(1, series.Count) - 1;   // at 12 px, or down to 10 px
        double[] headroom = [];
        if (labelValues && !across && !LogY && shown.Max() > 0)
        {
            var plotHeight = Height - 140.0;
            var length = widestLabel * 11 / 12 + 10;
            headroom = [shown.Max() * plotHeight / Math.Max(plotHeight / 2, plotHeight - length)];
        }
        var yScale = Scale.For(series.SelectMany(s => s.Values).Concat(headroom), LogY, includeZero: !LogY);
        var rotate = Categories.Any(c => Frame.TextWidth(c) > group - 6);
        var longest = Categories.Count == 0 ? 0 : Categories.Max(c => Frame.TextWidth(c));
        var legend = series.Select(s => (s.Name, s.Color)).ToList();
        var bottomExtra = rotate ? (int)Math.Min(120, longest * 0.6) : 0;
        var frame = new Frame(this, legend, Frame.LabelChars(yScale), bottomExtra);
        if (rotate && Categories.Count > 0)
        {
            // A label slanted at 35° reaches w·cos 35° left of its bar's centre, Left + a·(Right − Left) with
            // a = (i + ½)/n: the plot starts far enough right that each keeps 6 px from the edge.
            var n = Categories.Count;
            var minLeft = Categories.Select((c, i) => (i + 0.5) / n is var a
                ? (6 + Frame.TextWidth(c) * Math.Cos(Math.PI * 35 / 180) - a * frame.Right) / (1 - a)
                : 0).Max();
            if (minLeft > frame.Left) frame = new Frame(this, legend, Frame.LabelChars(yScale), bottomExtra, minLeft);
        }
        frame.DrawYAxis(svg, yScale);

        var width = frame.PlotWidth / Math.Max(1, Categories.Count);
        var barWidth = width * 0.8 / Math.Max(1, series.Count);
        var baseline = frame.Y(yScale, LogY ? yScale.Min : 0);
        var labelSize = across ? Math.Clamp((int)Math.Floor(12 * (barWidth - 1) / Math.Max(1, widestLabel)), 10, 12) : 11;
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
                if (labelValues && across)
                    Svg.Text(svg, x + barWidth / 2, Math.Min(top, baseline) - 5, Svg.Number(value, 3), size: labelSize, fill: Svg.Muted);
                else if (labelValues)
                {
                    var (lx, ly) = (x + barWidth / 2 + 4, Math.Min(top, baseline) - 5);
                    Svg.Text(svg, lx, ly, Svg.Number(value, 3), anchor: "start", size: labelSize, fill: Svg.Muted,
                        extra: $" transform=\"rotate(-90 {Svg.N(lx)} {Svg.N(ly)})\"");
                }
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
