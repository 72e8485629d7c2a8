using System.Numerics;

namespace LlmCourse.Charts;

/// <summary>How a series is drawn.</summary>
public enum SeriesStyle
{
    Lines,
    Markers,
    LinesAndMarkers,
}

/// <summary>One named list of (x, y) points with its colour; labels, when given, show on hover.</summary>
[LlmCourse.Tensors.Formatting.TypeFormatterSource(typeof(LlmCourse.Tensors.Formatting.TextFormatterSource))]
public sealed record Series(string Name, double[] X, double[] Y, string Color, SeriesStyle Style, bool Dashed = false,
    IReadOnlyList<string>? Labels = null)
{
    public int Count => X.Length;

    internal static double[] ToDoubles<T>(IEnumerable<T> values, string what) where T : INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(values, what);
        return values.Select(double.CreateTruncating).ToArray();
    }
}
