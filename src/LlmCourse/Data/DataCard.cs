using System.Net;
using System.Text;
using LlmCourse.Charts;

namespace LlmCourse.Data;

/// <summary>
/// What a <see cref="DataPipeline"/> run did to a corpus, stage by stage: documents and bytes kept
/// and removed, the reasons, and removed examples. It is a <see cref="View"/>: end a notebook cell
/// with it to see the tables.
/// </summary>
public sealed class DataCard(IReadOnlyList<StageReport> stages) : View
{
    public IReadOnlyList<StageReport> Stages { get; } = stages;

    public long DocumentsIn => Stages.Count > 0 ? Stages[0].DocumentsIn : 0;
    public long DocumentsOut => Stages.Count > 0 ? Stages[^1].DocumentsOut : 0;
    public long BytesIn => Stages.Count > 0 ? Stages[0].BytesIn : 0;
    public long BytesOut => Stages.Count > 0 ? Stages[^1].BytesOut : 0;

    /// <summary>One row per stage: documents and bytes in, removed, kept.</summary>
    public TableView Summary() => new(
        ["stage", "documents in", "removed", "kept", "bytes in", "bytes removed", "% bytes removed"],
        Stages.Select(s => new object?[]
        {
            s.Stage, s.DocumentsIn, s.DocumentsRemoved, s.DocumentsOut, s.BytesIn, s.BytesRemoved,
            s.BytesIn == 0 ? 0.0 : Math.Round(100.0 * s.BytesRemoved / s.BytesIn, 1),
        }),
        $"Data card: {DocumentsOut:N0} of {DocumentsIn:N0} documents kept, {BytesOut:N0} of {BytesIn:N0} bytes");

    /// <summary>One row per stage and reason (a trim counts a document edited, not removed).</summary>
    public TableView Reasons() => new(
        ["stage", "reason", "documents"],
        Stages.SelectMany(s => s.Reasons.Select(r => new object?[] { s.Stage, r.Reason, r.Count })),
        "Why documents (or lines) were removed");

    /// <summary>Removed examples, their text cut to <paramref name="maxChars"/> characters.</summary>
    public TableView Examples(int maxChars = 160) => new(
        ["stage", "reason", "measured", "document", "text"],
        Stages.SelectMany(s => s.Examples).Select(e => new object?[] { e.Stage, e.Reason, e.Detail ?? "", e.DocumentId, Snippet(e.Text, maxChars) }),
        "Removed examples");

    public static string Snippet(string text, int maxChars)
    {
        var flat = text.Replace("\r", "").Replace("\n", " ⏎ ");
        return flat.Length <= maxChars ? flat : flat[..maxChars] + "…";
    }

    public override string ToHtml() => new StringBuilder()
        .Append("<div class=\"llmcourse-datacard\">").Append(Summary().ToHtml())
        .Append("<div style=\"height:12px\"></div>").Append(Reasons().ToHtml())
        .Append("<div style=\"height:12px\"></div>").Append(Examples().ToHtml()).Append("</div>").ToString();

    public override string ToString() => Summary() + "\n\n" + Reasons();
}
