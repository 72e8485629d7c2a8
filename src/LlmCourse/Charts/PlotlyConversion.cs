using Plotly.NET;
using Plotly.NET.LayoutObjects;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace LlmCourse.Charts;

/// <summary>
/// The pieces every conversion to a Plotly.NET <see cref="GenericChart"/> shares: one trace per
/// series built with Plotly.NET.CSharp's typed constructors (so a student restyles the result with
/// the API Plotly.NET documents), then the course chart's title, axis titles, axis types and size.
/// The SVG stays the default view: a GenericChart needs plotly.js, which a kernel with
/// Plotly.NET.Interactive provides and <see cref="ToChartHtml"/> loads from its CDN.
/// </summary>
public static class PlotlyConversion
{
    /// <summary>One scatter trace (lines, markers or both) with the series' name, points, colour and dash.</summary>
    internal static GenericChart Trace(Series series)
    {
        var mode = series.Style switch
        {
            SeriesStyle.Lines => StyleParam.Mode.Lines,
            SeriesStyle.Markers => StyleParam.Mode.Markers,
            _ => StyleParam.Mode.Lines_Markers,
        };
        var color = Color.fromString(series.Color);
        // Non-finite values stay in the data: Plotly.NET writes them as "NaN", which plotly.js
        // treats as a missing point, the gap the SVG leaves too.
        return series.Labels is { } labels
            ? PlotlyChart.Scatter<double, double, string>(series.X, series.Y, mode, Name: series.Name, MultiText: labels.ToArray(),
                LineColor: color, MarkerColor: color, LineDash: series.Dashed ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid)
            : PlotlyChart.Scatter<double, double, string>(series.X, series.Y, mode, Name: series.Name,
                LineColor: color, MarkerColor: color, LineDash: series.Dashed ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid);
    }

    /// <summary>The chart's title, axis titles and types, and its size, on a combined chart.</summary>
    internal static GenericChart Styled(GenericChart traces, Chart chart, StyleParam.AxisType xType, StyleParam.AxisType yType, int height)
    {
        var styled = Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(traces, TitleText: chart.XLabel ?? "", AxisType: xType);
        styled = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(styled, TitleText: chart.YLabel ?? "", AxisType: yType);
        styled = Plotly.NET.CSharp.GenericChartExtensions.WithSize(styled, chart.Width, height);
        return Plotly.NET.Chart.withTitle(chart.Title, null).Invoke(styled);
    }

    internal static StyleParam.AxisType AxisType(bool log) => log ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear;

    /// <summary>
    /// A &lt;div&gt; and a script that draw the chart with plotly.js, loaded from <see cref="Chart.PlotlyCdn"/>
    /// unless the page has it already: for <c>HTML(...)</c> in a notebook or a page of one's own. It needs
    /// a network connection and a front end that runs scripts in outputs (VS Code, JupyterLab, Jupyter
    /// Notebook); offline, or in an export that strips scripts, the div stays empty.
    /// </summary>
    public static string ToChartHtml(this GenericChart chart)
    {
        // Plotly.NET's own toChartHTML assumes plotly.js is on the page; a notebook output cannot.
        var id = "llmcourse-plotly-" + Guid.NewGuid().ToString("N")[..12];
        var figure = GenericChart.toFigureJson(chart).Replace("</", "<\\/");
        // Classic Jupyter Notebook loads scripts through RequireJS, where plotly.js defines a module
        // instead of window.Plotly; elsewhere a plain script element does.
        var cdn = Chart.PlotlyCdn;
        return $$"""
            <div id="{{id}}"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{figure}};
              function draw(plotly) { plotly.newPlot("{{id}}", figure.data, figure.layout, {responsive: true}); }
              if (window.Plotly) { draw(window.Plotly); return; }
              if (typeof window.require === "function" && window.require.config) {
                window.require.config({ paths: { plotly: "{{cdn[..^3]}}" } });
                window.require(["plotly"], function (plotly) { window.Plotly = plotly; draw(plotly); });
                return;
              }
              var script = document.createElement("script");
              script.src = "{{cdn}}";
              script.onload = function () { draw(window.Plotly); };
              document.head.appendChild(script);
            })();
            </script>
            """;
    }

    /// <summary>The figure as plotly.js reads it (<c>{"data": [...], "layout": {...}}</c>).</summary>
    public static string ToFigureJson(this GenericChart chart) => GenericChart.toFigureJson(chart);

    /// <summary>Sets a trace attribute Plotly.NET's constructors do not take (zmin and zmax of a heatmap).</summary>
    internal static GenericChart WithTraceProperty(GenericChart chart, string name, object value)
    {
        foreach (var trace in GenericChart.getTraces(chart)) trace.SetProperty(name, value);
        return chart;
    }

    /// <summary>Side by side, each keeping its own axes (the training view's loss and perplexity).</summary>
    internal static GenericChart SideBySide(IReadOnlyList<GenericChart> charts, int width, int height) =>
        Plotly.NET.CSharp.GenericChartExtensions.WithSize(
            PlotlyChart.Grid(charts, nRows: 1, nCols: charts.Count, Pattern: StyleParam.LayoutGridPattern.Independent),
            width, height);
}
