namespace LlmCourse.Data;

/// <summary>
/// Gopher's repetition rules (Rae et al. 2021, table A1): a page that says the same thing over and
/// over (spam, templates, crawler traps) has many duplicate lines or paragraphs, one n-gram
/// covering a large share of it, or many characters in repeated 5- to 10-grams.
/// Fractions of characters are over the whole text, as in datatrove.
/// </summary>
public static class GopherRepetitionRules
{
    public static string? DuplicateLines(string text, QualityThresholds t)
    {
        var lines = TextStatistics.Lines(text);
        if (lines.Length == 0) return "no lines";
        var (count, chars) = TextStatistics.Duplicates(lines);
        var fraction = (double)count / lines.Length;
        if (fraction > t.MaxDuplicateLineFraction) return GopherQualityRules.Fail("duplicate lines", fraction, ">", t.MaxDuplicateLineFraction);
        var charFraction = (double)chars / text.Length;
        return charFraction > t.MaxDuplicateLineCharFraction ? GopherQualityRules.Fail("characters in duplicate lines", charFraction, ">", t.MaxDuplicateLineCharFraction) : null;
    }

    public static string? DuplicateParagraphs(string text, QualityThresholds t)
    {
        var paragraphs = TextStatistics.Paragraphs(text);
        if (paragraphs.Length == 0) return "no paragraphs";
        var (count, chars) = TextStatistics.Duplicates(paragraphs);
        var fraction = (double)count / paragraphs.Length;
        if (fraction > t.MaxDuplicateParagraphFraction) return GopherQualityRules.Fail("duplicate paragraphs", fraction, ">", t.MaxDuplicateParagraphFraction);
        var charFraction = (double)chars / text.Length;
        return charFraction > t.MaxDuplicateParagraphCharFraction ? GopherQualityRules.Fail("characters in duplicate paragraphs", charFraction, ">", t.MaxDuplicateParagraphCharFraction) : null;
    }

    public static string? TopNGrams(string text, QualityThresholds t)
    {
        var words = TextStatistics.Words(text);
        foreach (var (n, max) in t.TopNGrams)
        {
            var fraction = (double)TextStatistics.TopNGramChars(words, n) / text.Length;
            if (fraction > max) return GopherQualityRules.Fail($"top {n}-gram characters", fraction, ">", max);
        }
        return null;
    }

    public static string? DuplicateNGrams(string text, QualityThresholds t)
    {
        var words = TextStatistics.Words(text);
        foreach (var (n, max) in t.DuplicateNGrams)
        {
            var fraction = (double)TextStatistics.DuplicateNGramChars(words, n) / text.Length;
            if (fraction > max) return GopherQualityRules.Fail($"characters in repeated {n}-grams", fraction, ">", max);
        }
        return null;
    }

    public static IReadOnlyList<QualityRule> All { get; } =
    [
        new("gopher: duplicate lines", DuplicateLines),
        new("gopher: duplicate paragraphs", DuplicateParagraphs),
        new("gopher: top n-grams", TopNGrams),
        new("gopher: repeated n-grams", DuplicateNGrams),
    ];
}
