namespace LlmCourse.Data;

/// <summary>
/// Documents streamed through stages in order (dedup, then quality filters, ...); each stage's
/// report goes into the <see cref="DataCard"/> the run returns.
/// </summary>
/// <example><code>
/// var (kept, card) = new DataPipeline(new DocumentDedup(), new LineDedup(), new NearDedup(), QualityFilter.Gopher()).Run(documents);
/// display(card);
/// </code></example>
public sealed class DataPipeline(params DocumentStage[] stages)
{
    public IReadOnlyList<DocumentStage> Stages { get; } = stages.Length > 0
        ? stages
        : throw new ArgumentException("DataPipeline: give at least one stage.", nameof(stages));

    public int ExamplesPerReason { get; init; } = 3;

    public (List<Document> Kept, DataCard Card) Run(IEnumerable<Document> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var reports = new List<StageReport>();
        var stream = documents;
        foreach (var stage in Stages)
        {
            var report = new StageReport(stage.Name, ExamplesPerReason);
            reports.Add(report);
            stream = Counted(stage.Process(Counted(stream, report, input: true), report), report, input: false);
        }
        var kept = stream.ToList();   // pulls every document through every stage
        return (kept, new DataCard(reports));
    }

    static IEnumerable<Document> Counted(IEnumerable<Document> documents, StageReport report, bool input)
    {
        foreach (var document in documents)
        {
            if (input) { report.DocumentsIn++; report.BytesIn += document.Bytes; }
            else { report.DocumentsOut++; report.BytesOut += document.Bytes; }
            yield return document;
        }
    }
}
