using LlmCourse.Tensors.Formatting;
namespace LlmCourse.Data;

/// <summary>A removed document (or the part of one a stage cut out) and why.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record RemovedExample(string Stage, string Reason, string DocumentId, string Text, string? Detail = null);

/// <summary>
/// What one stage of a <see cref="DataPipeline"/> did: documents and bytes in and out, how many it
/// removed for each reason, and a few removed examples per reason to look at. Stages call
/// <see cref="Remove"/> for a document they drop and <see cref="Trim"/> for the part of a document
/// they cut; the pipeline counts what goes in and out.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class StageReport(string stage, int examplesPerReason = 3)
{
    readonly Dictionary<string, int> reasons = [];
    readonly List<RemovedExample> examples = [];

    public string Stage { get; } = stage;
    public long DocumentsIn { get; internal set; }
    public long DocumentsOut { get; internal set; }
    public long BytesIn { get; internal set; }
    public long BytesOut { get; internal set; }
    public long DocumentsRemoved => DocumentsIn - DocumentsOut;
    public long BytesRemoved => BytesIn - BytesOut;

    /// <summary>Removals (and trims) per reason, most frequent first.</summary>
    public IReadOnlyList<(string Reason, int Count)> Reasons =>
        reasons.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToArray();

    public IReadOnlyList<RemovedExample> Examples => examples;

    /// <summary>Records that <paramref name="document"/> was dropped for <paramref name="reason"/>.</summary>
    /// <param name="detail">What was measured ("mean word length 2.1 &lt; 3"), shown with the example.</param>
    public void Remove(Document document, string reason, string? detail = null) => Count(reason, document.Id, document.Text, detail);

    /// <summary>Records that <paramref name="removedText"/> was cut out of <paramref name="document"/>.</summary>
    public void Trim(Document document, string reason, string removedText) => Count(reason, document.Id, removedText, null);

    void Count(string reason, string id, string text, string? detail)
    {
        reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        if (examples.Count(e => e.Reason == reason) < examplesPerReason) examples.Add(new RemovedExample(Stage, reason, id, text, detail));
    }

    public override string ToString() =>
        $"{Stage}: kept {DocumentsOut:N0} of {DocumentsIn:N0} documents ({BytesOut:N0} of {BytesIn:N0} bytes)";
}
