namespace LlmCourse.Data;

/// <summary>
/// FineWeb's own line rules (Penedo et al. 2024, section 3.3), added after Gopher's: prose ends its
/// lines with punctuation, is not mostly short lines (menus, lists of links), does not repeat its
/// lines, and has many words per line break.
/// </summary>
public static class FineWebRules
{
    public static string? PunctuatedLines(string text, QualityThresholds t)
    {
        var lines = TextStatistics.Lines(text);
        if (lines.Length == 0) return "no lines";
        var fraction = (double)lines.Count(l => TextStatistics.TerminalPunctuation.Any(p => l.EndsWith(p, StringComparison.Ordinal))) / lines.Length;
        return fraction < t.MinPunctuatedLineFraction ? GopherQualityRules.Fail("lines ending in punctuation", fraction, "<", t.MinPunctuatedLineFraction) : null;
    }

    public static string? ShortLines(string text, QualityThresholds t)
    {
        var lines = TextStatistics.Lines(text);
        if (lines.Length == 0) return "no lines";
        var fraction = (double)lines.Count(l => l.Length <= t.ShortLineLength) / lines.Length;
        return fraction > t.MaxShortLineFraction ? GopherQualityRules.Fail($"lines of ≤ {t.ShortLineLength} characters", fraction, ">", t.MaxShortLineFraction) : null;
    }

    public static string? DuplicateLineChars(string text, QualityThresholds t)
    {
        var (_, chars) = TextStatistics.Duplicates(TextStatistics.Lines(text));
        var length = text.Replace("\n", "").Length;
        if (length == 0) return "empty";
        var ratio = (double)chars / length;
        return ratio > t.MaxDuplicateLineCharRatio ? GopherQualityRules.Fail("characters in repeated lines", ratio, ">", t.MaxDuplicateLineCharRatio) : null;
    }

    public static string? NewlinesPerWord(string text, QualityThresholds t)
    {
        var words = TextStatistics.Words(text).Length;
        if (words == 0) return "no words";
        var ratio = (double)text.Count(c => c == '\n') / words;
        return ratio > t.MaxNewlinesPerWord ? GopherQualityRules.Fail("newlines per word", ratio, ">", t.MaxNewlinesPerWord) : null;
    }

    public static IReadOnlyList<QualityRule> All { get; } =
    [
        new("fineweb: lines ending in punctuation", PunctuatedLines),
        new("fineweb: short lines", ShortLines),
        new("fineweb: repeated line characters", DuplicateLineChars),
        new("fineweb: newlines per word", NewlinesPerWord),
    ];
}
