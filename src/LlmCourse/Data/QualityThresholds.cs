using LlmCourse.Tensors.Formatting;
namespace LlmCourse.Data;

/// <summary>
/// Every threshold of the quality rules, in one place. The defaults are the published ones:
/// Gopher's (Rae et al. 2021, appendix A; as datatrove implements them) and FineWeb's
/// (Penedo et al. 2024). Change them with <c>with</c>: <c>QualityThresholds.Default with { MinWords = 20 }</c>.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record QualityThresholds
{
    public static QualityThresholds Default { get; } = new();

    // ---- Gopher quality ----
    public int MinWords { get; init; } = 50;
    public int MaxWords { get; init; } = 100_000;
    public double MinMeanWordLength { get; init; } = 3;
    public double MaxMeanWordLength { get; init; } = 10;
    /// <summary>Most "#" and "..."/"…" per word.</summary>
    public double MaxSymbolToWordRatio { get; init; } = 0.1;
    /// <summary>Most lines that end in "..." or "…".</summary>
    public double MaxEllipsisLineFraction { get; init; } = 0.3;
    /// <summary>Most lines that start with a bullet.</summary>
    public double MaxBulletLineFraction { get; init; } = 0.9;
    /// <summary>Least words that contain a letter.</summary>
    public double MinAlphabeticWordFraction { get; init; } = 0.8;
    /// <summary>Least occurrences of Gopher's stop words (the, be, to, of, and, that, have, with).</summary>
    public int MinStopWords { get; init; } = 2;

    // ---- Gopher repetition ----
    public double MaxDuplicateLineFraction { get; init; } = 0.3;
    public double MaxDuplicateParagraphFraction { get; init; } = 0.3;
    public double MaxDuplicateLineCharFraction { get; init; } = 0.2;
    public double MaxDuplicateParagraphCharFraction { get; init; } = 0.2;
    /// <summary>Most characters in the single most frequent n-gram, for n = 2, 3, 4.</summary>
    public IReadOnlyList<(int N, double MaxFraction)> TopNGrams { get; init; } = [(2, 0.20), (3, 0.18), (4, 0.16)];
    /// <summary>Most characters in repeated n-grams, for n = 5 … 10.</summary>
    public IReadOnlyList<(int N, double MaxFraction)> DuplicateNGrams { get; init; } =
        [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)];

    // ---- FineWeb ----
    /// <summary>Least lines that end in terminal punctuation.</summary>
    public double MinPunctuatedLineFraction { get; init; } = 0.12;
    /// <summary>Most lines of <see cref="ShortLineLength"/> characters or fewer.</summary>
    public double MaxShortLineFraction { get; init; } = 0.67;
    public int ShortLineLength { get; init; } = 30;
    /// <summary>Most characters in lines that repeat an earlier line of the document.</summary>
    public double MaxDuplicateLineCharRatio { get; init; } = 0.01;
    /// <summary>Most newlines per word (a list, not prose).</summary>
    public double MaxNewlinesPerWord { get; init; } = 0.3;
}
