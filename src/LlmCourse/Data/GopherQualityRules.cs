using System.Globalization;

namespace LlmCourse.Data;

/// <summary>
/// Gopher's quality rules (Rae et al. 2021, appendix A.1.1), one function each: too short or too
/// long, words too short (tables, code) or too long (URLs, hashes), too many symbols, lines
/// trailing off in "…", too few real words, no grammar words at all.
/// </summary>
public static class GopherQualityRules
{
    /// <summary>Words that almost any English sentence contains; a page with fewer than two is not prose.</summary>
    public static readonly IReadOnlySet<string> StopWords = new HashSet<string>(["the", "be", "to", "of", "and", "that", "have", "with"], StringComparer.Ordinal);

    static readonly string[] Bullets = ["•", "●", "○", "▪", "◦", "-", "*", "‣", "⁃"];

    public static string? WordCount(string text, QualityThresholds t)
    {
        var n = TextStatistics.Words(text).Length;
        return n < t.MinWords ? $"{n} words < {t.MinWords}" : n > t.MaxWords ? $"{n} words > {t.MaxWords}" : null;
    }

    public static string? MeanWordLength(string text, QualityThresholds t)
    {
        var words = TextStatistics.Words(text);
        if (words.Length == 0) return "no words";
        var mean = words.Average(w => w.Length);
        return mean < t.MinMeanWordLength ? Fail("mean word length", mean, "<", t.MinMeanWordLength)
             : mean > t.MaxMeanWordLength ? Fail("mean word length", mean, ">", t.MaxMeanWordLength) : null;
    }

    public static string? SymbolToWordRatio(string text, QualityThresholds t)
    {
        var words = TextStatistics.Words(text).Length;
        if (words == 0) return "no words";
        // Gopher: "a symbol-to-word ratio greater than 0.1 for either the hash symbol or the ellipsis", each on its own
        // (as datatrove checks them): 6 % hashes and 6 % ellipses pass.
        var hashes = (double)Occurrences(text, "#") / words;
        var ellipses = (double)(Occurrences(text, "...") + Occurrences(text, "…")) / words;
        return hashes > t.MaxSymbolToWordRatio ? Fail("# per word", hashes, ">", t.MaxSymbolToWordRatio)
            : ellipses > t.MaxSymbolToWordRatio ? Fail("ellipses per word", ellipses, ">", t.MaxSymbolToWordRatio)
            : null;
    }

    public static string? EllipsisLines(string text, QualityThresholds t)
    {
        var lines = TextStatistics.Lines(text);
        if (lines.Length == 0) return "no lines";
        var fraction = (double)lines.Count(l => l.EndsWith("...", StringComparison.Ordinal) || l.EndsWith('…')) / lines.Length;
        return fraction > t.MaxEllipsisLineFraction ? Fail("lines ending in …", fraction, ">", t.MaxEllipsisLineFraction) : null;
    }

    public static string? BulletLines(string text, QualityThresholds t)
    {
        var lines = TextStatistics.Lines(text);
        if (lines.Length == 0) return "no lines";
        var fraction = (double)lines.Count(l => Bullets.Any(b => l.StartsWith(b, StringComparison.Ordinal))) / lines.Length;
        return fraction > t.MaxBulletLineFraction ? Fail("bullet lines", fraction, ">", t.MaxBulletLineFraction) : null;
    }

    public static string? AlphabeticWords(string text, QualityThresholds t)
    {
        var words = TextStatistics.Words(text);
        if (words.Length == 0) return "no words";
        var fraction = (double)words.Count(w => w.Any(char.IsLetter)) / words.Length;
        return fraction < t.MinAlphabeticWordFraction ? Fail("words with a letter", fraction, "<", t.MinAlphabeticWordFraction) : null;
    }

    public static string? StopWordCount(string text, QualityThresholds t)
    {
        var n = TextStatistics.Words(text).Count(w => StopWords.Contains(w.ToLowerInvariant()));
        return n < t.MinStopWords ? $"{n} stop words < {t.MinStopWords}" : null;
    }

    /// <summary>The rules in Gopher's order.</summary>
    public static IReadOnlyList<QualityRule> All { get; } =
    [
        new("gopher: word count", WordCount),
        new("gopher: mean word length", MeanWordLength),
        new("gopher: symbol-to-word ratio", SymbolToWordRatio),
        new("gopher: lines ending in …", EllipsisLines),
        new("gopher: bullet lines", BulletLines),
        new("gopher: words with a letter", AlphabeticWords),
        new("gopher: stop words", StopWordCount),
    ];

    internal static int Occurrences(string text, string what)
    {
        int count = 0, at = 0;
        while ((at = text.IndexOf(what, at, StringComparison.Ordinal)) >= 0) { count++; at += what.Length; }
        return count;
    }

    internal static string Fail(string what, double value, string op, double threshold) =>
        string.Create(CultureInfo.InvariantCulture, $"{what} {value:0.###} {op} {threshold:0.###}");
}
