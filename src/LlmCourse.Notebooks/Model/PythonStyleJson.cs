using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False)</c>
/// prints it, which is what Jupyter writes; System.Text.Json has no option for sorted keys.
/// </summary>
static class PythonStyleJson
{
    public static void Write(JsonNode? node, StringBuilder text, int depth)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject o when o.Count == 0:
                text.Append("{}");
                break;
            case JsonObject o:
                text.Append("{\n");
                var first = true;
                foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first) text.Append(",\n");
                    first = false;
                    text.Append(' ', depth + 1);
                    WriteString(key, text);
                    text.Append(": ");
                    Write(value, text, depth + 1);
                }
                text.Append('\n').Append(' ', depth).Append('}');
                break;
            case JsonArray a when a.Count == 0:
                text.Append("[]");
                break;
            case JsonArray a:
                text.Append("[\n");
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) text.Append(",\n");
                    text.Append(' ', depth + 1);
                    Write(a[i], text, depth + 1);
                }
                text.Append('\n').Append(' ', depth).Append(']');
                break;
            case JsonValue v:
                WriteValue(v, text);
                break;
        }
    }

    static void WriteValue(JsonValue value, StringBuilder text)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(value.GetValue<string>(), text);
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            case JsonValueKind.Null:
                text.Append("null");
                break;
            default:
                // Numbers keep the text they were read with.
                text.Append(value.ToJsonString());
                break;
        }
    }

    static void WriteString(string s, StringBuilder text)
    {
        text.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20) text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}
