namespace LlmCourse.Data;

/// <summary>
/// One step of a <see cref="DataPipeline"/>: documents stream in, the kept (possibly edited) ones
/// stream out, and every removal is written to the stage's <see cref="StageReport"/>. A stage
/// that needs the whole corpus at once (near dedup) buffers it; the others look at one document at a time.
/// </summary>
public abstract class DocumentStage
{
    /// <summary>The name the data card shows.</summary>
    public abstract string Name { get; }

    public abstract IEnumerable<Document> Process(IEnumerable<Document> documents, StageReport report);
}

/// <summary>A stage that looks at one document at a time: keep it, edit it, or drop it.</summary>
public abstract class DocumentFilter : DocumentStage
{
    /// <summary>The document to keep (the same or an edited copy), or null to drop it (after reporting why).</summary>
    protected abstract Document? Apply(Document document, StageReport report);

    public sealed override IEnumerable<Document> Process(IEnumerable<Document> documents, StageReport report)
    {
        foreach (var document in documents)
            if (Apply(document, report) is { } kept) yield return kept;
    }
}
