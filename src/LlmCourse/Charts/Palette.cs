namespace LlmCourse.Charts;

/// <summary>
/// Series colours (Tableau 10: distinct, readable on a projector, kind to colour-blind readers) and
/// the heatmap scale (viridis: perceptually uniform, dark to light, prints in grey).
/// </summary>
public static class Palette
{
    public static readonly string[] Series =
    [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ];

    public static string SeriesColor(int index) => Series[index % Series.Length];

    // Viridis at nine evenly spaced points; colours in between are interpolated.
    static readonly (double R, double G, double B)[] viridis =
    [
        (68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (109, 205, 89), (180, 222, 44), (253, 231, 37),
    ];

    /// <summary>Viridis colour for <paramref name="t"/> in [0, 1].</summary>
    public static string Viridis(double t)
    {
        if (double.IsNaN(t)) return "#cccccc";
        t = Math.Clamp(t, 0, 1) * (viridis.Length - 1);
        var i = Math.Min((int)t, viridis.Length - 2);
        var f = t - i;
        var (a, b) = (viridis[i], viridis[i + 1]);
        return $"#{(int)Math.Round(a.R + (b.R - a.R) * f):x2}{(int)Math.Round(a.G + (b.G - a.G) * f):x2}{(int)Math.Round(a.B + (b.B - a.B) * f):x2}";
    }

    /// <summary>Whether text on <paramref name="t"/>'s viridis colour should be dark (the light end) or white.</summary>
    public static bool IsLight(double t) => t > 0.6;

    /// <summary>Soft backgrounds for token spans, distinct side by side.</summary>
    public static readonly string[] Tokens =
    [
        "#cfe3f7", "#fde2c4", "#d4edda", "#f8d7da", "#e2d9f3", "#fff3c4", "#d1ecf1", "#f3d9e8",
    ];
}
