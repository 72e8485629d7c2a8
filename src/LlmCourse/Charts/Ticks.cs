namespace LlmCourse.Charts;

/// <summary>
/// Axis ticks people can read: steps of 1, 2 or 5 times a power of ten (Heckbert, "Nice numbers for
/// graph labels", Graphics Gems 1990), and for log axes powers of ten, filled in with 2 and 5 when
/// the data spans less than a few decades. The axis always extends to a tick on each side of the data.
/// </summary>
public static class Ticks
{
    /// <summary>Linear ticks covering [min, max]: about <paramref name="target"/> of them.</summary>
    /// <remarks>
    /// Of the 1-2-5 steps that cut the axis into 3 to <paramref name="target"/> + 2 intervals, the one that leaves the
    /// least room beyond the data (0 to 120 reads 0, 20, …, 120, not 0, 50, 100, 150, a quarter of the axis empty);
    /// between equally snug ones, the one nearest <paramref name="target"/> ticks.
    /// </remarks>
    public static double[] Linear(double min, double max, int target = 6)
    {
        (min, max) = Widen(min, max);
        var rough = (max - min) / Math.Max(1, target - 1);
        var exponent = (int)Math.Floor(Math.Log10(rough));
        double step = 0, leastWaste = double.MaxValue;
        var nearest = int.MaxValue;
        for (var e = exponent - 1; e <= exponent + 1; e++)
            foreach (var mantissa in new[] { 1, 2, 5 })
            {
                var candidate = mantissa * Math.Pow(10, e);
                var intervals = (int)(Math.Ceiling(max / candidate) - Math.Floor(min / candidate));
                if (intervals < 3 || intervals > target + 2) continue;
                var waste = intervals * candidate / (max - min) - 1;
                var distance = Math.Abs(intervals - (target - 1));
                if (waste < leastWaste - 1e-9 || (waste <= leastWaste + 1e-9 && distance < nearest))
                    (step, leastWaste, nearest) = (candidate, waste, distance);
            }
        if (step == 0) step = NiceNumber(NiceNumber(max - min, round: false) / Math.Max(1, target - 1), round: true);
        // Multiplying (not adding) keeps 0.1 * 3 from drifting to 0.30000000000000004 at every tick.
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step)) + 1);
        var first = Math.Floor(min / step) * step;
        var count = (int)Math.Round((Math.Ceiling(max / step) * step - first) / step) + 1;
        return Enumerable.Range(0, count).Select(i => Math.Round(first + i * step, Math.Min(decimals, 15))).ToArray();
    }

    /// <summary>Log ticks covering [min, max] (both positive).</summary>
    public static double[] Logarithmic(double min, double max)
    {
        if (!(min > 0) || !(max > 0))
            throw new ArgumentException($"Log axis: values must be positive, got [{min}, {max}].");
        if (max / min < 1 + 1e-9) (min, max) = (min / 2, max * 2);
        var low = (int)Math.Floor(Math.Log10(min) + 1e-9);
        var high = (int)Math.Ceiling(Math.Log10(max) - 1e-9);
        var decades = high - low;
        if (decades >= 3)
        {
            // Powers of ten only, every k-th decade when there are many, on multiples of k (1e-21, 1e-18, …, 1), so
            // the last two ticks are as far apart as the others.
            var every = (int)Math.Ceiling(decades / 8.0);
            var first = (int)Math.Floor(low / (double)every) * every;
            var last = (int)Math.Ceiling(high / (double)every) * every;
            return Enumerable.Range(0, (last - first) / every + 1).Select(i => Pow10(first + i * every)).ToArray();
        }
        if (max / min < 10)
        {
            // Less than a decade (a loss from 1.6 to 2.4, say): linear steps read best, placed on the log scale,
            // unless the axis would have to start at 0, which a log axis cannot show (8 to 68: 0, 20, … leaves 8 out).
            var linear = Linear(min, max, 5);
            if (linear.Length >= 3 && linear[0] > 0) return linear;
        }
        // Within a few decades, 1-2-5 steps: the smallest at or below min to the first at or above max.
        var candidates = Enumerable.Range(low - 1, decades + 2).SelectMany(e => new[] { 1, 2, 5 }.Select(m => m * Pow10(e))).ToArray();
        var start = candidates.Last(c => c <= min * (1 + 1e-9));
        var end = candidates.First(c => c >= max * (1 - 1e-9));
        var ticks = candidates.Where(c => c >= start && c <= end).ToArray();
        return ticks;
    }

    static double Pow10(int exponent) => double.Parse($"1e{exponent}", System.Globalization.CultureInfo.InvariantCulture);

    static (double Min, double Max) Widen(double min, double max)
    {
        if (max > min) return (min, max);
        // One value, or all equal: show it in the middle of a small range.
        var pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
        return (min - pad, max + pad);
    }

    /// <summary>The 1, 2, 5 or 10 times a power of ten closest to (or, unrounded, just above) <paramref name="x"/>.</summary>
    static double NiceNumber(double x, bool round)
    {
        var exponent = Math.Floor(Math.Log10(x));
        var fraction = x / Math.Pow(10, exponent);
        var nice = round
            ? fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
            : fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * Math.Pow(10, exponent);
    }
}
