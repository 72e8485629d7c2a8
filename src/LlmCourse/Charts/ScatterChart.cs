namespace LlmCourse.Charts;

/// <summary>
/// Points, each with an optional hover label: model size against loss, on log-log axes for scaling
/// laws (a power law is a straight line there).
/// </summary>
/// <example><code>
/// new ScatterChart("Loss vs parameters", "parameters", "validation loss") { LogX = true, LogY = true }
///     .Add("runs", parameters, losses, labels: names)
/// </code></example>
public sealed class ScatterChart(string title, string? xLabel = null, string? yLabel = null) : XYChart<ScatterChart>(title, xLabel, yLabel)
{
    protected override SeriesStyle DefaultStyle => SeriesStyle.Markers;
}
