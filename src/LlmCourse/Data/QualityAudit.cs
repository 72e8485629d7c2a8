using LlmCourse.Charts;

namespace LlmCourse.Data;

/// <summary>
/// Each quality rule run alone on labelled documents: the share of each kind it would remove.
/// A rule that removes much of the clean text (a false positive rate) is tuned for another kind
/// of text than yours; this is how FineWeb's authors chose their thresholds, on samples they had labelled.
/// </summary>
public static class QualityAudit
{
    public static TableView Table(IEnumerable<QualityRule> rules, IReadOnlyList<Document> documents, Func<Document, string> kindOf,
        QualityThresholds? thresholds = null, string title = "Share of each kind of page a rule removes on its own (%)")
    {
        thresholds ??= QualityThresholds.Default;
        var kinds = documents.GroupBy(kindOf).OrderByDescending(g => g.Count()).Select(g => (Kind: g.Key, Documents: g.ToArray())).ToArray();
        var rows = rules.Select(rule => kinds
            .Select(k => (object?)Math.Round(100.0 * k.Documents.Count(d => rule.Apply(d.Text, thresholds) is not null) / k.Documents.Length, 1))
            .Prepend(rule.Name));
        return new TableView(kinds.Select(k => $"{k.Kind} ({k.Documents.Length})").Prepend("rule"), rows, title);
    }
}
