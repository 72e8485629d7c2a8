using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;

namespace LlmCourse.Charts;

/// <summary>
/// A matrix as coloured cells with row and column labels: attention weights (query rows, key
/// columns), bigram counts (first character rows, second character columns). Colours are viridis,
/// dark for the smallest value, with a colour bar; values are written in the cells when they fit.
/// </summary>
/// <example><code>
/// new Heatmap("Attention, head 0", weights, rowLabels: tokens, columnLabels: tokens) { Min = 0, Max = 1 }
/// </code></example>
public sealed class Heatmap : Chart
{
    const int MaxCellTooltips = 10_000;

    public Heatmap(string title, double[,] values, IEnumerable<string>? rowLabels = null, IEnumerable<string>? columnLabels = null)
        : base(title)
    {
        Values = (double[,])values.Clone();
        RowLabels = Labels(rowLabels, values.GetLength(0), "row");
        ColumnLabels = Labels(columnLabels, values.GetLength(1), "column");
    }

    public Heatmap(string title, float[,] values, IEnumerable<string>? rowLabels = null, IEnumerable<string>? columnLabels = null)
        : this(title, ToDouble(values), rowLabels, columnLabels)
    {
    }

    /// <summary>From a list of rows of equal length.</summary>
    public static Heatmap FromRows<T>(string title, IEnumerable<IEnumerable<T>> rows, IEnumerable<string>? rowLabels = null,
        IEnumerable<string>? columnLabels = null) where T : INumberBase<T>
    {
        var data = rows.Select(r => Charts.Series.ToDoubles(r, nameof(rows))).ToArray();
        var columns = data.Length == 0 ? 0 : data[0].Length;
        if (data.FirstOrDefault(r => r.Length != columns) is { } ragged)
            throw new ArgumentException($"Heatmap '{title}': rows have different lengths ({columns} and {ragged.Length}).");
        var values = new double[data.Length, columns];
        for (var r = 0; r < data.Length; r++)
            for (var c = 0; c < columns; c++) values[r, c] = data[r][c];
        return new Heatmap(title, values, rowLabels, columnLabels);
    }

    public double[,] Values { get; }
    public IReadOnlyList<string> RowLabels { get; }
    public IReadOnlyList<string> ColumnLabels { get; }
    public int Rows => Values.GetLength(0);
    public int Columns => Values.GetLength(1);

    /// <summary>The value at the dark end of the scale; the data's minimum when null.</summary>
    public double? Min { get; set; }

    /// <summary>The value at the light end of the scale; the data's maximum when null.</summary>
    public double? Max { get; set; }

    /// <summary>Write values in the cells: null decides by whether they fit.</summary>
    public bool? ShowValues { get; set; }

    (double Low, double High) Range()
    {
        var finite = Values.Cast<double>().Where(double.IsFinite).ToArray();
        var low = Min ?? (finite.Length == 0 ? 0 : finite.Min());
        var high = Max ?? (finite.Length == 0 ? 1 : finite.Max());
        return high > low ? (low, high) : (low, low + 1);
    }

    /// <summary>Where things go: cells are square, as large as fit (up to 56 px), and the height follows the rows.</summary>
    sealed record Layout(string[] RowText, string[] ColumnText, double Left, double Top, double Cell, bool Rotate, int Height);

    Layout Arrange()
    {
        var rowText = RowLabels.Select(Visible).ToArray();
        var columnText = ColumnLabels.Select(Visible).ToArray();
        var left = 24 + Math.Min(160, rowText.DefaultIfEmpty("").Max(l => Frame.TextWidth(l))) + (YLabel is null ? 0 : 22);
        const double top = 48.0, colorBar = 70;
        var cell = Math.Min(56, Math.Min((Width - left - colorBar - 16) / Math.Max(1, Columns), 640.0 / Math.Max(1, Rows)));
        var rotate = columnText.Any(l => Frame.TextWidth(l) > cell - 4);
        var bottom = 24 + (rotate ? Math.Min(120, columnText.DefaultIfEmpty("").Max(l => Frame.TextWidth(l)) * 0.75) : 22)
            + (XLabel is null ? 0 : 20);
        var height = (int)Math.Ceiling(Math.Max(200, top + Rows * cell + bottom));
        return new Layout(rowText, columnText, left, top, cell, rotate, height);
    }

    protected override int DrawnHeight => Arrange().Height;

    protected override void Draw(StringBuilder svg)
    {
        var (low, high) = Range();
        var (rowText, columnText, left, top, cell, rotate, height) = Arrange();
        var showValues = ShowValues ?? (cell >= 30 && Rows * Columns <= 400);
        // Probabilities (attention, transition matrices) read best with two decimals throughout.
        var probabilities = Values.Cast<double>().Where(double.IsFinite).All(v => v is >= -1 and <= 1);
        var tooltips = Rows * Columns <= MaxCellTooltips;
        for (var r = 0; r < Rows; r++)
        {
            for (var c = 0; c < Columns; c++)
            {
                var value = Values[r, c];
                var t = (value - low) / (high - low);
                var (x, y) = (left + c * cell, top + r * cell);
                svg.Append($"<rect x=\"{Svg.N(x)}\" y=\"{Svg.N(y)}\" width=\"{Svg.N(cell + 0.3)}\" height=\"{Svg.N(cell + 0.3)}\" fill=\"{Palette.Viridis(t)}\"");
                if (tooltips) svg.Append($"><title>{Svg.Escape($"{rowText[r]} → {columnText[c]}: {Svg.Number(value, 4)}")}</title></rect>");
                else svg.Append("/>");
                if (showValues && double.IsFinite(value))
                    Svg.Text(svg, x + cell / 2, y + cell / 2 + 4,
                        probabilities ? value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : Svg.Number(value, 3),
                        size: cell >= 40 ? 12 : 11,
                        fill: Palette.IsLight(t) ? Svg.Ink : "white");
            }
        }

        var labelSize = cell >= 14 ? 13 : 10;
        if (cell >= 7)
        {
            for (var r = 0; r < Rows; r++)
                Svg.Text(svg, left - 6, top + (r + 0.5) * cell + 4, rowText[r], anchor: "end", size: labelSize);
            for (var c = 0; c < Columns; c++)
            {
                var x = left + (c + 0.5) * cell;
                var y = top + Rows * cell + 16;
                if (rotate)
                    Svg.Text(svg, x, y, columnText[c], anchor: "end", size: labelSize,
                        extra: $" transform=\"rotate(-45 {Svg.N(x)} {Svg.N(y)})\"");
                else Svg.Text(svg, x, y, columnText[c], size: labelSize);
            }
        }

        DrawColorBar(svg, left + Columns * cell + 18, top, Math.Max(80, Rows * cell), low, high);
        Frame.DrawTitle(svg, Width, Title);
        if (XLabel is { } xLabel) Svg.Text(svg, left + Columns * cell / 2, height - 8, xLabel, size: 14, fill: Svg.Muted);
        if (YLabel is { } yLabel)
            Svg.Text(svg, 0, 0, yLabel, size: 14, fill: Svg.Muted,
                extra: $" transform=\"translate(14,{Svg.N(top + Rows * cell / 2)}) rotate(-90)\"");
    }

    static void DrawColorBar(StringBuilder svg, double x, double y, double height, double low, double high)
    {
        // Strips instead of a gradient: gradients need ids, which collide when a page shows two heatmaps.
        const int strips = 32;
        for (var i = 0; i < strips; i++)
        {
            var t = 1 - (i + 0.5) / strips;
            svg.Append($"<rect x=\"{Svg.N(x)}\" y=\"{Svg.N(y + i * height / strips)}\" width=\"14\" height=\"{Svg.N(height / strips + 0.5)}\" fill=\"{Palette.Viridis(t)}\"/>");
        }
        Svg.Text(svg, x + 18, y + 10, Svg.Number(high, 3), anchor: "start", size: 12, fill: Svg.Muted);
        Svg.Text(svg, x + 18, y + height, Svg.Number(low, 3), anchor: "start", size: 12, fill: Svg.Muted);
    }

    /// <summary>Whitespace labels made visible: a space token or a newline must still be seen.</summary>
    public static string Visible(string label)
    {
        if (label.Length > 0 && label.All(char.IsWhiteSpace) || label.Contains('\n') || label.Contains('\t'))
            return label.Replace(" ", "␣").Replace("\n", "↵").Replace("\r", "").Replace("\t", "⇥");
        return label;
    }

    public override JsonObject ToPlotlyFigure()
    {
        var z = new JsonArray();
        for (var r = 0; r < Rows; r++)
            z.Add(Numbers(Enumerable.Range(0, Columns).Select(c => Values[r, c])));
        var (low, high) = Range();
        var layout = PlotlyLayout();
        layout["yaxis"]!["autorange"] = "reversed"; // row 0 at the top, as in the SVG and in a matrix
        layout["xaxis"]!["type"] = "category";
        layout["yaxis"]!["type"] = "category";
        return new JsonObject
        {
            ["data"] = new JsonArray(new JsonObject
            {
                ["type"] = "heatmap",
                ["z"] = z,
                ["x"] = Strings(ColumnLabels.Select(Visible)),
                ["y"] = Strings(RowLabels.Select(Visible)),
                ["zmin"] = low,
                ["zmax"] = high,
                ["colorscale"] = "Viridis",
            }),
            ["layout"] = layout,
        };
    }

    /// <summary>One heatmap trace, row 0 at the top, on the SVG's colour range (viridis, <see cref="Min"/> to <see cref="Max"/>).</summary>
    public override Plotly.NET.GenericChart ToPlotly()
    {
        var z = Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, Columns).Select(c => Values[r, c]).ToArray()).ToArray();
        var (low, high) = Range();
        var heatmap = Plotly.NET.CSharp.Chart.Heatmap<double, string, string, string>(z,
            X: ColumnLabels.Select(Visible).ToArray(), Y: RowLabels.Select(Visible).ToArray(),
            ColorScale: Plotly.NET.StyleParam.Colorscale.Viridis, ReverseYAxis: true);
        heatmap = PlotlyConversion.WithTraceProperty(heatmap, "zmin", low);
        heatmap = PlotlyConversion.WithTraceProperty(heatmap, "zmax", high);
        return PlotlyConversion.Styled(heatmap, this, Plotly.NET.StyleParam.AxisType.Category, Plotly.NET.StyleParam.AxisType.Category, DrawnHeight);
    }

    public override string ToString()
    {
        var (low, high) = Range();
        return $"Heatmap '{Title}': {Rows}x{Columns}, values {Svg.Number(low, 4)} to {Svg.Number(high, 4)}";
    }

    static IReadOnlyList<string> Labels(IEnumerable<string>? labels, int count, string what)
    {
        var list = labels?.ToArray() ?? Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (list.Length != count)
            throw new ArgumentException($"Heatmap: {list.Length} {what} labels for {count} {what}s.");
        return list;
    }

    static double[,] ToDouble(float[,] values)
    {
        var result = new double[values.GetLength(0), values.GetLength(1)];
        for (var r = 0; r < values.GetLength(0); r++)
            for (var c = 0; c < values.GetLength(1); c++) result[r, c] = values[r, c];
        return result;
    }
}
