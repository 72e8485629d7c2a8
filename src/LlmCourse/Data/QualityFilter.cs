namespace LlmCourse.Data;

/// <summary>
/// Drops the documents that fail any of its rules; the data card counts each removal under the
/// first rule that failed, with an example of its measured value.
/// </summary>
public sealed class QualityFilter(string name, IEnumerable<QualityRule> rules, QualityThresholds? thresholds = null) : DocumentFilter
{
    public IReadOnlyList<QualityRule> Rules { get; } = rules.ToArray();
    public QualityThresholds Thresholds { get; } = thresholds ?? QualityThresholds.Default;

    public override string Name { get; } = name;

    public static QualityFilter Gopher(QualityThresholds? thresholds = null) => new("gopher quality", GopherQualityRules.All, thresholds);
    public static QualityFilter GopherRepetition(QualityThresholds? thresholds = null) => new("gopher repetition", GopherRepetitionRules.All, thresholds);
    public static QualityFilter FineWeb(QualityThresholds? thresholds = null) => new("fineweb lines", FineWebRules.All, thresholds);

    /// <summary>The first rule the text fails and why, or null when it passes them all.</summary>
    public (QualityRule Rule, string Why)? FirstFailure(string text)
    {
        foreach (var rule in Rules)
            if (rule.Apply(text, Thresholds) is { } why) return (rule, why);
        return null;
    }

    protected override Document? Apply(Document document, StageReport report)
    {
        if (FirstFailure(document.Text) is not { } failure) return document;
        report.Remove(document, failure.Rule.Name, failure.Why);
        return null;
    }
}
