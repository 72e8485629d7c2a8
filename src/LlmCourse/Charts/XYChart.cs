using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;

namespace LlmCourse.Charts;

/// <summary>
/// Series of (x, y) points on numeric axes, linear or log. <see cref="LineChart"/> and
/// <see cref="ScatterChart"/> differ only in how they draw a series by default. <typeparamref name="TChart"/>
/// is the chart itself, so <c>Add</c> returns it and calls chain into a cell's value.
/// </summary>
public abstract class XYChart<TChart> : Chart where TChart : XYChart<TChart>
{
    const int MaxHoverPoints = 300;

    readonly List<Series> series = [];

    protected XYChart(string title, string? xLabel, string? yLabel) : base(title)
    {
        XLabel = xLabel;
        YLabel = yLabel;
    }

    public bool LogX { get; set; }
    public bool LogY { get; set; }

    /// <summary>Shows 0 on the y axis even when the data is far from it (bars of loss, accuracies).</summary>
    public bool YFromZero { get; set; }

    public IReadOnlyList<Series> Series => series;

    protected abstract SeriesStyle DefaultStyle { get; }

    /// <summary>Adds a series; <paramref name="x"/> and <paramref name="y"/> must have the same length.</summary>
    public TChart Add<TX, TY>(string name, IEnumerable<TX> x, IEnumerable<TY> y, SeriesStyle? style = null,
        bool dashed = false, IEnumerable<string>? labels = null)
        where TX : INumberBase<TX> where TY : INumberBase<TY>
    {
        var xs = Charts.Series.ToDoubles(x, nameof(x));
        var ys = Charts.Series.ToDoubles(y, nameof(y));
        if (xs.Length != ys.Length)
            throw new ArgumentException($"{GetType().Name} '{Title}', series '{name}': {xs.Length} x values but {ys.Length} y values.");
        var labelList = labels?.ToList();
        if (labelList is not null && labelList.Count != xs.Length)
            throw new ArgumentException($"{GetType().Name} '{Title}', series '{name}': {labelList.Count} labels for {xs.Length} points.");
        series.Add(new Series(name, xs, ys, Palette.SeriesColor(series.Count), style ?? DefaultStyle, dashed, labelList));
        return (TChart)this;
    }

    /// <summary>Adds a series with x = 0, 1, 2, ...</summary>
    public TChart Add<TY>(string name, IEnumerable<TY> y, SeriesStyle? style = null) where TY : INumberBase<TY>
    {
        var ys = Charts.Series.ToDoubles(y, nameof(y));
        return Add(name, Enumerable.Range(0, ys.Length).Select(i => (double)i), ys, style);
    }

    /// <summary>The series as drawn (a line chart adds smoothed copies).</summary>
    protected virtual IReadOnlyList<Series> DrawnSeries => series;

    protected virtual IReadOnlyList<(string Name, string Color)> LegendEntries =>
        series.Select(s => (s.Name, s.Color)).ToList();

    protected override void Draw(StringBuilder svg)
    {
        var drawn = DrawnSeries;
        if (drawn.Count == 0 || drawn.All(s => s.Count == 0))
        {
            var empty = new Frame(this, []);
            empty.DrawDecorations(svg);
            Svg.Text(svg, Width / 2.0, Height / 2.0, "no data yet", size: 16, fill: Svg.Muted);
            return;
        }
        var xScale = Scale.For(drawn.SelectMany(s => s.X), LogX);
        var yScale = Scale.For(drawn.SelectMany(s => s.Y), LogY, includeZero: YFromZero);
        var frame = new Frame(this, LegendEntries, Frame.LabelChars(yScale));
        frame.DrawXAxis(svg, xScale);
        frame.DrawYAxis(svg, yScale);
        foreach (var s in drawn) DrawSeries(svg, frame, xScale, yScale, s);
        frame.DrawDecorations(svg);
    }

    void DrawSeries(StringBuilder svg, Frame frame, Scale xScale, Scale yScale, Series s)
    {
        var points = Enumerable.Range(0, s.Count)
            .Where(i => xScale.CanShow(s.X[i]) && yScale.CanShow(s.Y[i]))
            .Select(i => (Index: i, X: frame.X(xScale, s.X[i]), Y: frame.Y(yScale, s.Y[i])))
            .ToList();
        svg.Append($"<g><title>{Svg.Escape(s.Name)}</title>");
        if (s.Style is SeriesStyle.Lines or SeriesStyle.LinesAndMarkers && points.Count > 1)
        {
            svg.Append("<polyline fill=\"none\" stroke-linejoin=\"round\" stroke-width=\"2.5\" ")
                .Append($"stroke=\"{s.Color}\"{(s.Dashed ? " stroke-dasharray=\"7 5\"" : "")} points=\"");
            foreach (var p in points) svg.Append(Svg.N(p.X)).Append(',').Append(Svg.N(p.Y)).Append(' ');
            svg.Append("\"/>");
        }
        // Hover targets: every point when there are few, evenly spaced ones (and the last) otherwise.
        var visible = s.Style != SeriesStyle.Lines || points.Count <= 40;
        var every = Math.Max(1, (int)Math.Ceiling(points.Count / (double)MaxHoverPoints));
        for (var k = 0; k < points.Count; k++)
        {
            if (k % every != 0 && k != points.Count - 1) continue;
            var p = points[k];
            var radius = s.Style == SeriesStyle.Markers ? 5 : visible ? 3.5 : 4;
            var label = s.Labels is { } labels ? labels[p.Index] + ": " : "";
            svg.Append($"<circle cx=\"{Svg.N(p.X)}\" cy=\"{Svg.N(p.Y)}\" r=\"{radius}\" fill=\"{s.Color}\"")
                .Append(visible ? (s.Style == SeriesStyle.Markers ? " fill-opacity=\"0.85\" stroke=\"white\"" : "") : " fill-opacity=\"0\"")
                .Append($"><title>{Svg.Escape($"{s.Name}: {label}{XLabel ?? "x"} = {Svg.Number(s.X[p.Index], 6)}, {YLabel ?? "y"} = {Svg.Number(s.Y[p.Index], 5)}")}</title></circle>");
        }
        svg.Append("</g>");
    }

    public override JsonObject ToPlotlyFigure()
    {
        var traces = new JsonArray();
        foreach (var s in DrawnSeries)
        {
            var trace = new JsonObject
            {
                ["type"] = "scatter",
                ["mode"] = s.Style switch { SeriesStyle.Lines => "lines", SeriesStyle.Markers => "markers", _ => "lines+markers" },
                ["name"] = s.Name,
                ["x"] = Numbers(s.X),
                ["y"] = Numbers(s.Y),
                ["line"] = new JsonObject { ["color"] = s.Color, ["dash"] = s.Dashed ? "dash" : "solid" },
                ["marker"] = new JsonObject { ["color"] = s.Color },
            };
            if (s.Labels is { } labels) trace["text"] = Strings(labels);
            traces.Add(trace);
        }
        return new JsonObject { ["data"] = traces, ["layout"] = PlotlyLayout(LogX, LogY) };
    }

    /// <summary>One scatter trace per series as drawn (a smoothed line chart: raw and smoothed).</summary>
    public override Plotly.NET.GenericChart ToPlotly() => PlotlyConversion.Styled(
        Plotly.NET.CSharp.Chart.Combine(DrawnSeries.Select(PlotlyConversion.Trace)), this,
        PlotlyConversion.AxisType(LogX), PlotlyConversion.AxisType(LogY), DrawnHeight);

    /// <summary>"LineChart 'Loss': train (200 points, last 1.23), validation (...)".</summary>
    public override string ToString()
    {
        var parts = series.Select(s => s.Count == 0
            ? $"{s.Name} (empty)"
            : $"{s.Name} ({s.Count} point{(s.Count == 1 ? "" : "s")}, last {Svg.Number(s.Y[^1], 5)})");
        return $"{GetType().Name} '{Title}': {string.Join(", ", parts)}";
    }
}
