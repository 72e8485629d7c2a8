namespace LlmCourse.Charts;

/// <summary>
/// Curves: loss against step, train against validation. With <see cref="Smoothing"/> each series is
/// drawn faint as recorded and bold as an exponential moving average, as TensorBoard does, because a
/// mini-batch loss is too noisy to read by eye.
/// </summary>
/// <example><code>
/// new LineChart("Loss", "step", "loss") { Smoothing = 0.9 }
///     .Add("train", steps, trainLoss)
///     .Add("validation", evalSteps, valLoss)
/// </code></example>
public sealed class LineChart(string title, string? xLabel = null, string? yLabel = null) : XYChart<LineChart>(title, xLabel, yLabel)
{
    double smoothing;

    /// <summary>
    /// EMA weight in [0, 1) for series drawn as plain lines: 0 draws the data as it is, 0.9 averages
    /// over about ten points. Series with markers are never smoothed.
    /// </summary>
    public double Smoothing
    {
        get => smoothing;
        set => smoothing = value is >= 0 and < 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"LineChart '{Title}': Smoothing must be in [0, 1).");
    }

    protected override SeriesStyle DefaultStyle => SeriesStyle.Lines;

    // Only plain lines are smoothed: a series drawn with markers (validation every few hundred
    // steps) has too few points to average, and each of them matters.
    protected override IReadOnlyList<Series> DrawnSeries => smoothing == 0
        ? Series
        : Series.SelectMany(s => s.Style != SeriesStyle.Lines ? [s] : new[]
        {
            s with { Name = s.Name + " (raw)", Color = s.Color + "55" },
            s with { Y = Ema(s.Y, smoothing) },
        }).ToList();

    /// <summary>
    /// Exponential moving average with TensorBoard's debiasing: the first points are not dragged
    /// towards zero. Non-finite values are passed through and skipped by the average.
    /// </summary>
    public static double[] Ema(IReadOnlyList<double> values, double smoothing)
    {
        var result = new double[values.Count];
        double average = 0;
        var steps = 0;
        for (var i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                result[i] = values[i];
                continue;
            }
            average = smoothing * average + (1 - smoothing) * values[i];
            steps++;
            result[i] = average / (1 - Math.Pow(smoothing, steps));
        }
        return result;
    }
}
