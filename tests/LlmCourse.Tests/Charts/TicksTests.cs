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
    [InlineData(1.37, 4.18, new double[] { 1, 2, 3, 4, 5 })]
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
