using FsCheck;
using FsCheck.Fluent;
using LlmCourse.Charts;

namespace LlmCourse.Tests.Charts;

/// <summary>Ticks are 1-2-5 steps (or powers of ten on log axes) and the axis covers the data.</summary>
public sealed class TicksTests
{
    static bool IsNiceStep(double step)
    {
        var mantissa = step / Math.Pow(10, Math.Floor(Math.Log10(step)));
        return new[] { 1.0, 2.0, 5.0, 10.0 }.Any(m => Math.Abs(mantissa - m) < 1e-6);
    }

    [Theory]
    [InlineData(0, 1, new double[] { 0, 0.2, 0.4, 0.6, 0.8, 1 })]
    [InlineData(1.37, 4.18, new double[] { 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5 })]   // steps of 1 would leave 42 % of the axis empty, of 0.5 25 %
    [InlineData(0, 120, new double[] { 0, 20, 40, 60, 80, 100, 120 })]          // not 0, 50, 100, 150
    [InlineData(0, 2500, new double[] { 0, 500, 1000, 1500, 2000, 2500 })]
    [InlineData(0.013, 0.0571, new double[] { 0.01, 0.02, 0.03, 0.04, 0.05, 0.06 })]
    [InlineData(0, 5000, new double[] { 0, 1000, 2000, 3000, 4000, 5000 })]
    [InlineData(-3, 7, new double[] { -4, -2, 0, 2, 4, 6, 8 })]
    public void Linear_KnownRanges(double min, double max, double[] expected)
    {
        Assert.Equal(expected, Ticks.Linear(min, max));
    }

    [Fact]
    public void Linear_AnyRange_HasNiceEvenStepsCoveringTheData()
    {
        Prop.ForAll(
            Gen.Choose(-1_000_000, 1_000_000).Three().ToArbitrary(),
            t =>
            {
                var (a, b, scale) = t;
                var factor = Math.Pow(10, scale % 7);
                var (min, max) = (Math.Min(a, b) / 1000.0 * factor, Math.Max(a, b) / 1000.0 * factor);
                var ticks = Ticks.Linear(min, max);
                var steps = ticks.Zip(ticks.Skip(1), (x, y) => y - x).ToArray();
                return ticks.Length is >= 3 and <= 12
                    && ticks[0] <= min && ticks[^1] >= max
                    && IsNiceStep(steps[0])
                    && steps.All(s => Math.Abs(s - steps[0]) <= 1e-9 * Math.Max(1, Math.Abs(ticks[^1])));
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Linear_OneValue_IsShownInsideASmallRange()
    {
        var ticks = Ticks.Linear(2.5, 2.5);
        Assert.True(ticks[0] < 2.5 && ticks[^1] > 2.5, string.Join(", ", ticks));
    }

    [Fact]
    public void Linear_PicksTheSnuggest125Step()
    {
        // Brute force over every 1-2-5 step giving 3 to 8 intervals: none covers the data with less room to spare.
        Prop.ForAll(
            Gen.Choose(1, 1_000_000).Two().ToArbitrary(),
            t =>
            {
                var (a, b) = t;
                var (min, max) = (Math.Min(a, b) / 100.0, Math.Max(a, b) / 100.0 + 0.5);
                var ticks = Ticks.Linear(min, max);
                var span = ticks[^1] - ticks[0];
                var steps = Enumerable.Range(-4, 12).SelectMany(e => new[] { 1.0, 2, 5 }.Select(m => m * Math.Pow(10, e)));
                return steps.All(step =>
                {
                    var intervals = Math.Ceiling(max / step) - Math.Floor(min / step);
                    return intervals is < 3 or > 8 || intervals * step >= span * (1 - 1e-9);
                });
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Log_AnyRange_CoversTheDataWithPositiveIncreasingTicks()
    {
        Prop.ForAll(
            Gen.Choose(-2_000, 2_000).Two().ToArbitrary(),
            t =>
            {
                var (a, b) = t;
                var (min, max) = (Math.Pow(10, Math.Min(a, b) / 100.0), Math.Pow(10, Math.Max(a, b) / 100.0));
                var ticks = Ticks.Logarithmic(min, max);
                return ticks.Length is >= 2 and <= 12 && ticks[0] > 0
                    && ticks[0] <= min * (1 + 1e-12) && ticks[^1] >= max * (1 - 1e-12)
                    && ticks.Zip(ticks.Skip(1)).All(p => p.First < p.Second);
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Log_LessThanADecadeFromNearZero_StillCoversTheData()
    {
        // A perplexity falling from 68 to 8: linear steps would start at 0, which a log axis cannot show, and the
        // first positive one (20) would leave the data below 20 outside the plot.
        var ticks = Ticks.Logarithmic(8, 68);
        Assert.True(ticks[0] <= 8 && ticks[^1] >= 68, string.Join(", ", ticks));
    }

    [Fact]
    public void Log_ManyDecades_AreEvenlySpaced()
    {
        // 20 decades, a tick every 3: on multiples of 3 (1e-21 … 1), not 1e-19 … 1e-1 and then 1 one decade later.
        var ticks = Ticks.Logarithmic(1e-19, 0.5);
        var exponents = ticks.Select(t => Math.Round(Math.Log10(t))).ToArray();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => -21.0 + 3 * i), exponents);
    }

    [Fact]
    public void Log_WideRange_IsPowersOfTenCoveringTheData()
    {
        Assert.Equal([1e3, 1e4, 1e5, 1e6, 1e7], Ticks.Logarithmic(3_000, 8_000_000));
        var many = Ticks.Logarithmic(1e-9, 1e9);
        Assert.True(many.Length <= 10, string.Join(", ", many));
        Assert.True(many[0] <= 1e-9 && many[^1] >= 1e9);
        Assert.All(many, t => Assert.Equal(Math.Round(Math.Log10(t)), Math.Log10(t), 9));
    }

    [Fact]
    public void Log_FewDecades_Uses125()
    {
        Assert.Equal([2, 5, 10, 20, 50, 100], Ticks.Logarithmic(3, 60));
    }

    [Fact]
    public void Log_NarrowRange_FallsBackToLinearSteps()
    {
        var ticks = Ticks.Logarithmic(1.6, 2.4);
        Assert.True(ticks.Length >= 3, string.Join(", ", ticks));
        Assert.True(ticks[0] <= 1.6 && ticks[^1] >= 2.4);
        Assert.True(IsNiceStep(ticks[1] - ticks[0]));
    }

    [Fact]
    public void Log_RejectsNonPositive()
    {
        var e = Assert.Throws<ArgumentException>(() => Ticks.Logarithmic(0, 10));
        Assert.Contains("positive", e.Message);
    }
}
