namespace LlmCourse.Charts;

/// <summary>
/// Points, each with an optional hover label: model size against loss, on log-log axes for scaling
/// laws (a power law is a straight line there).
/// </summary>
/// <example><code>
/// new ScatterChart("Loss vs parameters", "parameters", "validation loss") { LogX = true, LogY = true }
///     .Add("runs", parameters, losses, labels: names)
/// </code></example>
public sealed class ScatterChart(string title, string? xLabel = null, string? yLabel = null) : XYChart(title, xLabel, yLabel)
{
    protected override SeriesStyle DefaultStyle => SeriesStyle.Markers;

    public new ScatterChart Add<TX, TY>(string name, IEnumerable<TX> x, IEnumerable<TY> y, SeriesStyle? style = null,
        bool dashed = false, IEnumerable<string>? labels = null)
        where TX : System.Numerics.INumberBase<TX> where TY : System.Numerics.INumberBase<TY> =>
        (ScatterChart)base.Add(name, x, y, style, dashed, labels);

    public new ScatterChart Add<TY>(string name, IEnumerable<TY> y, SeriesStyle? style = null)
        where TY : System.Numerics.INumberBase<TY> =>
        (ScatterChart)base.Add(name, y, style);
}
