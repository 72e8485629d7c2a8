using System.Text;

namespace LlmCourse.Charts;

/// <summary>
/// The parts every chart shares, drawn in one place: title, legend row, plot rectangle, grid,
/// ticks and axis labels. Coordinates: x grows right, y grows down (SVG).
/// </summary>
sealed class Frame
{
    const double CharWidth = 7.8; // at 13-14 px, close enough to place labels and legends

    public Frame(Chart chart, IReadOnlyList<(string Name, string Color)> legend, int leftLabelChars = 6, int bottomExtra = 0,
        double minLeft = 0)
    {
        Chart = chart;
        Legend = legend;
        var legendRows = LegendRows(chart.Width - 40).Count;
        Top = 40 + legendRows * 22 + 8;
        Left = Math.Max(minLeft, 28 + Math.Max(4, leftLabelChars) * CharWidth + (chart.YLabel is null ? 0 : 18));
        Right = chart.Width - 24;
        Bottom = chart.Height - 46 - bottomExtra - (chart.XLabel is null ? 0 : 4);
    }

    public Chart Chart { get; }
    public IReadOnlyList<(string Name, string Color)> Legend { get; }
    public double Left { get; }
    public double Right { get; }
    public double Top { get; }
    public double Bottom { get; }
    public double PlotWidth => Right - Left;
    public double PlotHeight => Bottom - Top;

    public double X(Scale scale, double value) => Left + scale.Normalize(value) * PlotWidth;

    public double Y(Scale scale, double value) => Bottom - scale.Normalize(value) * PlotHeight;

    public static double TextWidth(string text, int size = 13) => text.Length * CharWidth * size / 13.0;

    /// <summary>Title, legend and axis titles.</summary>
    public void DrawDecorations(StringBuilder svg)
    {
        DrawTitle(svg, Chart.Width, Chart.Title);
        var y = 52.0;
        foreach (var row in LegendRows(Chart.Width - 40))
        {
            var width = row.Sum(e => 26 + TextWidth(e.Name)) + (row.Count - 1) * 16;
            var x = (Chart.Width - width) / 2;
            foreach (var (name, color) in row)
            {
                svg.Append($"<g><title>{Svg.Escape(name)}</title>")
                    .Append($"<rect x=\"{Svg.N(x)}\" y=\"{Svg.N(y - 10)}\" width=\"18\" height=\"10\" rx=\"2\" fill=\"{color}\"/>");
                Svg.Text(svg, x + 24, y, name, anchor: "start", size: 13);
                svg.Append("</g>");
                x += 26 + TextWidth(name) + 16;
            }
            y += 22;
        }
        if (Chart.XLabel is { } xLabel) Svg.Text(svg, (Left + Right) / 2, Chart.Height - 10, xLabel, size: 14, fill: Svg.Muted);
        if (Chart.YLabel is { } yLabel)
            Svg.Text(svg, 0, 0, yLabel, size: 14, fill: Svg.Muted,
                extra: $" transform=\"translate(18,{Svg.N((Top + Bottom) / 2)}) rotate(-90)\"");
    }

    /// <summary>
    /// The title, centred at the top. One wider than the chart is set smaller, down to 11 px, and only then cut
    /// with "…" (the whole title stays in the SVG's own &lt;title&gt;, which a browser shows on hover).
    /// </summary>
    public static void DrawTitle(StringBuilder svg, double chartWidth, string title)
    {
        const int largest = 18, smallest = 11;
        var room = chartWidth - 16;
        var size = largest;
        while (size > smallest && TextWidth(title, size) > room) size--;
        var text = title;
        if (TextWidth(text, size) > room)
        {
            var fits = Math.Max(1, (int)(room / TextWidth("x", size)) - 1);
            text = text[..fits].TrimEnd() + "…";
        }
        Svg.Text(svg, chartWidth / 2.0, 26, text, size: size, extra: " font-weight=\"600\"");
    }

    /// <summary>Grid lines and labelled ticks of a numeric x axis.</summary>
    public void DrawXAxis(StringBuilder svg, Scale scale)
    {
        foreach (var tick in scale.Ticks)
        {
            var x = X(scale, tick);
            svg.Append($"<line x1=\"{Svg.N(x)}\" y1=\"{Svg.N(Top)}\" x2=\"{Svg.N(x)}\" y2=\"{Svg.N(Bottom)}\" stroke=\"{Svg.Grid}\"/>");
            svg.Append($"<line x1=\"{Svg.N(x)}\" y1=\"{Svg.N(Bottom)}\" x2=\"{Svg.N(x)}\" y2=\"{Svg.N(Bottom + 5)}\" stroke=\"{Svg.Axis}\"/>");
            Svg.Text(svg, x, Bottom + 20, Svg.Number(tick), size: 13, fill: Svg.Muted);
        }
        svg.Append($"<line x1=\"{Svg.N(Left)}\" y1=\"{Svg.N(Bottom)}\" x2=\"{Svg.N(Right)}\" y2=\"{Svg.N(Bottom)}\" stroke=\"{Svg.Axis}\"/>");
    }

    /// <summary>Grid lines and labelled ticks of a numeric y axis.</summary>
    public void DrawYAxis(StringBuilder svg, Scale scale)
    {
        foreach (var tick in scale.Ticks)
        {
            var y = Y(scale, tick);
            svg.Append($"<line x1=\"{Svg.N(Left)}\" y1=\"{Svg.N(y)}\" x2=\"{Svg.N(Right)}\" y2=\"{Svg.N(y)}\" stroke=\"{Svg.Grid}\"/>");
            svg.Append($"<line x1=\"{Svg.N(Left - 5)}\" y1=\"{Svg.N(y)}\" x2=\"{Svg.N(Left)}\" y2=\"{Svg.N(y)}\" stroke=\"{Svg.Axis}\"/>");
            Svg.Text(svg, Left - 9, y + 4.5, Svg.Number(tick), anchor: "end", size: 13, fill: Svg.Muted);
        }
        svg.Append($"<line x1=\"{Svg.N(Left)}\" y1=\"{Svg.N(Top)}\" x2=\"{Svg.N(Left)}\" y2=\"{Svg.N(Bottom)}\" stroke=\"{Svg.Axis}\"/>");
    }

    /// <summary>Legend entries in rows that fit <paramref name="width"/>.</summary>
    List<List<(string Name, string Color)>> LegendRows(double width)
    {
        var rows = new List<List<(string Name, string Color)>>();
        if (Legend.Count < 2) return rows; // one series: the title says what it is
        var row = new List<(string Name, string Color)>();
        var used = 0.0;
        foreach (var entry in Legend)
        {
            var w = 26 + TextWidth(entry.Name) + 16;
            if (row.Count > 0 && used + w > width)
            {
                rows.Add(row);
                row = [];
                used = 0;
            }
            row.Add(entry);
            used += w;
        }
        rows.Add(row);
        return rows;
    }

    public static int LabelChars(Scale scale) => scale.Ticks.Max(t => Svg.Number(t).Length);
}
