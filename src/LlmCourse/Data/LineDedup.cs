namespace LlmCourse.Data;

/// <summary>
/// Exact deduplication of lines across documents: a line whose normal form was already seen in an
/// earlier document is cut out (navigation bars, cookie banners, footers repeated on every page of
/// a site). Short lines are left alone, since "Exit." or a speaker's name repeats legitimately; a
/// document left with no text is removed.
/// </summary>
public sealed class LineDedup(int minWords = 4) : DocumentFilter
{
    readonly HashSet<UInt128> seen = [];

    public override string Name => "exact dedup (lines)";

    /// <summary>Lines with fewer normalized words than this are never treated as duplicates.</summary>
    public int MinWords { get; } = minWords;

    protected override Document? Apply(Document document, StageReport report)
    {
        var lines = document.Text.Split('\n');
        var kept = new List<string>(lines.Length);
        var newInThisDocument = new List<UInt128>();
        var cut = new List<string>();
        foreach (var line in lines)
        {
            var normal = TextNormalizer.Normalize(line);
            if (normal.Count(c => c == ' ') + 1 < MinWords || normal.Length == 0) { kept.Add(line); continue; }
            var key = DocumentDedup.Hash128(normal);
            if (seen.Contains(key)) { cut.Add(line); continue; }
            newInThisDocument.Add(key);   // repeats inside one document are the repetition filters' business
            kept.Add(line);
        }
        foreach (var key in newInThisDocument) seen.Add(key);
        if (cut.Count == 0) return document;
        var text = string.Join('\n', kept);
        if (string.IsNullOrWhiteSpace(text))
        {
            report.Remove(document, "only duplicate lines");
            return null;
        }
        report.Trim(document, "duplicate lines cut", string.Join('\n', cut));
        return document with { Text = text };
    }
}
