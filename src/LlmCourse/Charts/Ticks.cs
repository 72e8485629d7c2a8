namespace LlmCourse.Charts;

/// <summary>
/// Axis ticks people can read: steps of 1, 2 or 5 times a power of ten (Heckbert, "Nice numbers for
/// graph labels", Graphics Gems 1990), and for log axes powers of ten, filled in with 2 and 5 when
/// the data spans less than a few decades. The axis always extends to a tick on each side of the data.
/// </summary>
public static class Ticks
{
    /// <summary>Linear ticks covering [min, max]: about <paramref name="target"/> of them.</summary>
    public static double[] Linear(double min, double max, int target = 6)
    {
        (min, max) = Widen(min, max);
        var step = NiceNumber(NiceNumber(max - min, round: false) / Math.Max(1, target - 1), round: true);
        var first = Math.Floor(min / step) * step;
        var last = Math.Ceiling(max / step) * step;
        var count = (int)Math.Round((last - first) / step) + 1;
        // Multiplying (not adding) keeps 0.1 * 3 from drifting to 0.30000000000000004 at every tick.
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step)) + 1);
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
            // Powers of ten only, every k-th decade when there are many.
            var every = (int)Math.Ceiling(decades / 8.0);
            return Enumerable.Range(0, decades / every + 1).Select(i => Pow10(low + i * every))
                .Concat(decades % every == 0 ? [] : [Pow10(high)]).Distinct().ToArray();
        }
        if (max / min < 10)
        {
            // Less than a decade (a loss from 1.6 to 2.4, say): linear steps read best, placed on the log scale.
            var linear = Linear(min, max, 5).Where(t => t > 0).ToArray();
            if (linear.Length >= 3) return linear;
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
