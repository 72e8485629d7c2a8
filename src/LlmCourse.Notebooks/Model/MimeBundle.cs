using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>
/// A value rendered in one or more MIME types, richest first (text/html before text/plain), the
/// way a Jupyter front end picks the richest one it can show.
/// </summary>
public sealed class MimeBundle
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";
    public const string Svg = "image/svg+xml";

    readonly List<KeyValuePair<string, string>> items = [];

    public IReadOnlyList<KeyValuePair<string, string>> Items => items;

    public MimeBundle Add(string mimeType, string content)
    {
        items.RemoveAll(i => i.Key == mimeType);
        items.Add(new(mimeType, content));
        return this;
    }

    public bool Contains(string mimeType) => items.Any(i => i.Key == mimeType);

    public string? this[string mimeType] => items.FirstOrDefault(i => i.Key == mimeType).Value;

    public static MimeBundle Text(string text) => new MimeBundle().Add(PlainText, text);

    public JsonObject ToJson()
    {
        var data = new JsonObject();
        foreach (var (mime, content) in items) data[mime] = content;
        return data;
    }
}
