using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmCourse.Charts;

/// <summary>
/// A chart: drawn as self-contained SVG (offline, crisp on a projector, inline in notebooks and
/// HTML exports), or handed to Plotly for zooming (<see cref="ToPlotlyJson"/>, <see cref="ToPlotlyHtml"/>).
/// </summary>
public abstract class Chart : View
{
    /// <summary>plotly.js from its CDN: the one thing here that needs a network, used only by <see cref="ToPlotlyHtml"/>.</summary>
    public const string PlotlyCdn = "https://cdn.plot.ly/plotly-2.35.2.min.js";

    protected Chart(string title) => Title = title;

    public string Title { get; set; }
    public string? XLabel { get; set; }
    public string? YLabel { get; set; }
    public int Width { get; set; } = 720;
    public int Height { get; set; } = 420;

    /// <summary>The chart as one &lt;svg&gt; element.</summary>
    public string ToSvg()
    {
        if (Width < 200 || Height < 150)
            throw new ArgumentException($"{GetType().Name} '{Title}': {Width}x{Height} is too small to draw; use at least 200x150.");
        var svg = new StringBuilder();
        Svg.Open(svg, Width, DrawnHeight, Title);
        Draw(svg);
        return svg.Append("</svg>").ToString();
    }

    protected abstract void Draw(StringBuilder svg);

    /// <summary>The height the SVG gets: <see cref="Height"/>, unless the chart sizes itself to its data.</summary>
    protected virtual int DrawnHeight => Height;

    public override string ToHtml() => $"<div class=\"llmcourse-chart\" style=\"max-width:100%;overflow-x:auto\">{ToSvg()}</div>";

    /// <summary>A Plotly figure: <c>{"data": [traces], "layout": {...}}</c>.</summary>
    public abstract JsonObject ToPlotlyFigure();

    /// <summary>
    /// The same data as a Plotly.NET chart, to restyle with Plotly.NET's API (<c>WithXAxisStyle</c>,
    /// <c>WithTraceInfo</c>, <c>WithSize</c>, ...) and to show as an interactive figure in a kernel
    /// that has Plotly.NET.Interactive, or anywhere with <see cref="PlotlyConversion.ToChartHtml"/>.
    /// </summary>
    public abstract Plotly.NET.GenericChart ToPlotly();

    public string ToPlotlyJson() => ToPlotlyFigure().ToJsonString(new JsonSerializerOptions { WriteIndented = false });

    /// <summary>
    /// A standalone page that draws the figure with plotly.js, loaded from <see cref="PlotlyCdn"/>: it
    /// needs a network connection, unlike the SVG, but lets a reader zoom and pan.
    /// </summary>
    public string ToPlotlyHtml()
    {
        var id = "plot-" + Guid.NewGuid().ToString("N")[..8];
        return $$"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>{{Svg.Escape(Title)}}</title>
            <script src="{{PlotlyCdn}}" charset="utf-8"></script></head>
            <body><div id="{{id}}" style="width:{{Width}}px;height:{{DrawnHeight}}px"></div>
            <script>const figure = {{ToPlotlyJson().Replace("</", "<\\/")}};
            Plotly.newPlot("{{id}}", figure.data, figure.layout, {responsive: true});</script>
            </body></html>

            """;
    }

    /// <summary>.svg, .html (the SVG in a page) or .json (the Plotly figure), by the extension.</summary>
    public override void Save(string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".svg": File.WriteAllText(path, ToSvg()); break;
            case ".json": File.WriteAllText(path, ToPlotlyJson()); break;
            case ".html" or ".htm": File.WriteAllText(path, ToHtmlPage()); break;
            default: throw new ArgumentException($"{GetType().Name}.Save: '{path}': use .svg, .html or .json.", nameof(path));
        }
    }

    protected JsonObject PlotlyLayout(bool logX = false, bool logY = false) => new()
    {
        ["title"] = new JsonObject { ["text"] = Title },
        ["width"] = Width,
        ["height"] = DrawnHeight,
        ["xaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = XLabel ?? "" }, ["type"] = logX ? "log" : "linear" },
        ["yaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = YLabel ?? "" }, ["type"] = logY ? "log" : "linear" },
        ["template"] = "plotly_white",
    };

    protected static JsonArray Numbers(IEnumerable<double> values) =>
        new(values.Select(v => double.IsFinite(v) ? JsonValue.Create(v) : null).ToArray<JsonNode?>());

    protected static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());
}
