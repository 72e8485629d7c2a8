using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>One notebook cell. Source is held as one string; on disk it is a list of lines.</summary>
public sealed class Cell
{
    public Cell(CellKind kind, string source, string? id = null)
    {
        Kind = kind;
        Source = source;
        Id = id ?? NewId();
        Metadata = kind == CellKind.Code ? DotNetKernel.CodeCellMetadata() : [];
    }

    public static Cell Code(string source) => new(CellKind.Code, source);

    public static Cell Markdown(string source) => new(CellKind.Markdown, source);

    public CellKind Kind { get; }
    public string Id { get; set; }
    public string Source { get; set; }
    public JsonObject Metadata { get; set; }

    /// <summary>Code cells only; null until the cell has run.</summary>
    public int? ExecutionCount { get; set; }

    public List<Output> Outputs { get; } = [];

    /// <summary>Markdown and raw cells may carry attachments (images pasted into the cell).</summary>
    public JsonObject? Attachments { get; set; }

    /// <summary>Fields this model does not name, kept as they were.</summary>
    public JsonObject Extra { get; set; } = [];

    /// <summary>The kernel that runs this cell, from the Polyglot metadata; "csharp" when none is named.</summary>
    public string KernelName =>
        (Metadata["polyglot_notebook"]?["kernelName"] ?? Metadata["dotnet_interactive"]?["language"])
        ?.GetValue<string>() ?? "csharp";

    /// <summary>nbformat 4.5 cell ids: 1-64 letters, digits, '-' or '_'.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N")[..12];

    public Cell Clone()
    {
        var copy = new Cell(Kind, Source, Id)
        {
            Metadata = (JsonObject)Metadata.DeepClone(),
            ExecutionCount = ExecutionCount,
            Attachments = (JsonObject?)Attachments?.DeepClone(),
            Extra = (JsonObject)Extra.DeepClone(),
        };
        copy.Outputs.AddRange(Outputs.Select(o => o.Clone()));
        return copy;
    }
}
