using System.Text.Json;

namespace LlmCourse.Kernel.Tests.Support;

public enum OutputType
{
    Stream,
    Display,
    Result,
    Error,
}

/// <summary>
/// One output of a cell, as a Jupyter front end keeps it: a stream (stdout/stderr, consecutive writes
/// merged, as Jupyter merges them), a display (the state of its last update), a result, an error.
/// The same shape for the kernel's events and for the runner's executed notebook, so they compare.
/// </summary>
public sealed record CellOutput(OutputType Type, IReadOnlyList<KeyValuePair<string, string>> Data, string? StreamName = null, string? Text = null)
{
    public IEnumerable<string> MimeTypes => Data.Select(d => d.Key);

    public string? this[string mimeType] => Data.FirstOrDefault(d => d.Key == mimeType).Value;

    public static CellOutput Stream(string name, string text) => new(OutputType.Stream, [], name, text);

    public static CellOutput Error(string text) => new(OutputType.Error, [], Text: text);

    public override string ToString() => Type switch
    {
        OutputType.Stream => $"{StreamName}: {Shorten(Text)}",
        OutputType.Error => $"error: {Shorten(Text)}",
        _ => $"{Type.ToString().ToLowerInvariant()} [{string.Join(", ", MimeTypes)}] {Shorten(this["text/plain"] ?? Data.FirstOrDefault().Value)}",
    };

    static string Shorten(string? text) => text is null ? "" : text.Length > 160 ? text[..160].ReplaceLineEndings("⏎") + "…" : text.ReplaceLineEndings("⏎");

    /// <summary>A MIME bundle's value as stored in a notebook: a string, or a list of lines.</summary>
    public static string DataText(object? value) => value switch
    {
        null => "",
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
        JsonElement { ValueKind: JsonValueKind.Array } e => string.Concat(e.EnumerateArray().Select(x => x.GetString())),
        JsonElement e => e.GetRawText(),
        IEnumerable<object> lines => string.Concat(lines.Select(DataText)),
        _ => value.ToString() ?? "",
    };

    /// <summary>Appends a stream write, merging it into the previous output when that is the same stream.</summary>
    public static void AppendStream(List<CellOutput> outputs, string name, string text)
    {
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (text.Length == 0) return;
        if (outputs.Count > 0 && outputs[^1] is { Type: OutputType.Stream } last && last.StreamName == name)
            outputs[^1] = last with { Text = last.Text + text };
        else
            outputs.Add(Stream(name, text));
    }
}
