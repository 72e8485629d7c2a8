namespace LlmCourse.Charts;

/// <summary>
/// Maps data values to [0, 1] along an axis, linear or logarithmic, over a domain that ends on
/// ticks. Values that cannot be shown (NaN, infinities, and non-positive ones on a log axis) are
/// left out when the domain is chosen; <see cref="CanShow"/> tells a chart which points to skip.
/// </summary>
public sealed class Scale
{
    Scale(bool log, double[] ticks)
    {
        IsLog = log;
        Ticks = ticks;
        Min = ticks[0];
        Max = ticks[^1];
    }

    public bool IsLog { get; }
    public double Min { get; }
    public double Max { get; }
    public IReadOnlyList<double> Ticks { get; }

    public static Scale For(IEnumerable<double> values, bool log, bool includeZero = false, int targetTicks = 6)
    {
        var shown = values.Where(v => double.IsFinite(v) && (!log || v > 0)).ToArray();
        if (shown.Length == 0) shown = log ? [1, 10] : [0, 1];
        var (min, max) = (shown.Min(), shown.Max());
        if (includeZero && !log) (min, max) = (Math.Min(min, 0), Math.Max(max, 0));
        return new Scale(log, log ? Charts.Ticks.Logarithmic(min, max) : Charts.Ticks.Linear(min, max, targetTicks));
    }

    public bool CanShow(double value) => double.IsFinite(value) && (!IsLog || value > 0);

    /// <summary>0 at <see cref="Min"/>, 1 at <see cref="Max"/>.</summary>
    public double Normalize(double value) => IsLog
        ? (Math.Log10(value) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
        : (value - Min) / (Max - Min);
}
