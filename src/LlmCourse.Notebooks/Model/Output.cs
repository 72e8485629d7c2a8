using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>nbformat's <c>output_type</c>.</summary>
public enum OutputKind
{
    Stream,
    DisplayData,
    ExecuteResult,
    Error,
}

/// <summary>
/// One output of a code cell. Streams carry <see cref="Name"/> and <see cref="Text"/>; display data
/// and execute results a MIME bundle in <see cref="Data"/>; errors a name, value and traceback.
/// </summary>
public sealed class Output
{
    public Output(OutputKind kind) => Kind = kind;

    public OutputKind Kind { get; }

    /// <summary>Stream name: "stdout" or "stderr".</summary>
    public string? Name { get; set; }

    /// <summary>Stream text.</summary>
    public string? Text { get; set; }

    /// <summary>MIME type → content: a string for text types, JSON for JSON types.</summary>
    public JsonObject Data { get; set; } = [];

    public JsonObject OutputMetadata { get; set; } = [];
    public int? ExecutionCount { get; set; }
    public string? ErrorName { get; set; }
    public string? ErrorValue { get; set; }
    public List<string> Traceback { get; set; } = [];

    /// <summary>Fields this model does not name, kept as they were.</summary>
    public JsonObject Extra { get; set; } = [];

    public static Output Stream(string name, string text) => new(OutputKind.Stream) { Name = name, Text = text };

    public static Output Display(MimeBundle bundle) => new(OutputKind.DisplayData) { Data = bundle.ToJson() };

    public static Output Result(MimeBundle bundle, int executionCount) =>
        new(OutputKind.ExecuteResult) { Data = bundle.ToJson(), ExecutionCount = executionCount };

    public static Output Failure(string name, string value, IEnumerable<string> traceback) =>
        new(OutputKind.Error) { ErrorName = name, ErrorValue = value, Traceback = traceback.ToList() };

    /// <summary>The text of one MIME type in <see cref="Data"/> (joined if stored as lines), or null.</summary>
    public string? GetText(string mimeType) => Data[mimeType] switch
    {
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        JsonNode node => node.ToJsonString(),
        null => null,
    };

    public Output Clone() => new(Kind)
    {
        Name = Name,
        Text = Text,
        Data = (JsonObject)Data.DeepClone(),
        OutputMetadata = (JsonObject)OutputMetadata.DeepClone(),
        ExecutionCount = ExecutionCount,
        ErrorName = ErrorName,
        ErrorValue = ErrorValue,
        Traceback = [.. Traceback],
        Extra = (JsonObject)Extra.DeepClone(),
    };
}
