using System.Text;
using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>
/// Writes nbformat 4.5 the way Jupyter and VS Code do (<c>json.dumps(nb, sort_keys=True, indent=1,
/// ensure_ascii=False)</c>): keys sorted, one-space indent, multi-line strings as lists of lines. Saving
/// a notebook that came from either tool therefore changes only what actually changed.
/// </summary>
public static class NotebookWriter
{
    public static void Save(Notebook notebook, string path)
    {
        // Write beside the target, then rename: an interrupted save never leaves half a notebook.
        AtomicText.Write(path, Serialize(notebook));
    }

    public static string Serialize(Notebook notebook)
    {
        var text = new StringBuilder();
        PythonStyleJson.Write(ToJson(notebook), text, 0);
        text.Append('\n');
        return text.ToString();
    }

    public static JsonObject ToJson(Notebook notebook)
    {
        var root = (JsonObject)notebook.Extra.DeepClone();
        root["cells"] = new JsonArray(notebook.Cells.Select(CellJson).ToArray<JsonNode?>());
        root["metadata"] = notebook.Metadata.DeepClone();
        root["nbformat"] = 4;
        root["nbformat_minor"] = Math.Max(notebook.FormatMinor, 5);
        return root;
    }

    static JsonObject CellJson(Cell cell)
    {
        var o = (JsonObject)cell.Extra.DeepClone();
        o["cell_type"] = cell.Kind switch
        {
            CellKind.Code => "code",
            CellKind.Markdown => "markdown",
            _ => "raw",
        };
        o["id"] = cell.Id;
        o["metadata"] = cell.Metadata.DeepClone();
        o["source"] = Lines(cell.Source);
        if (cell.Attachments is not null) o["attachments"] = cell.Attachments.DeepClone();
        if (cell.Kind == CellKind.Code)
        {
            o["execution_count"] = cell.ExecutionCount;
            o["outputs"] = new JsonArray(cell.Outputs.Select(OutputJson).ToArray<JsonNode?>());
        }
        return o;
    }

    static JsonObject OutputJson(Output output)
    {
        var o = (JsonObject)output.Extra.DeepClone();
        switch (output.Kind)
        {
            case OutputKind.Stream:
                o["output_type"] = "stream";
                o["name"] = output.Name ?? "stdout";
                o["text"] = Lines(output.Text ?? "");
                break;
            case OutputKind.Error:
                o["output_type"] = "error";
                o["ename"] = output.ErrorName ?? "";
                o["evalue"] = output.ErrorValue ?? "";
                o["traceback"] = new JsonArray(output.Traceback.Select(t => (JsonNode?)t).ToArray());
                break;
            default:
                o["output_type"] = output.Kind == OutputKind.ExecuteResult ? "execute_result" : "display_data";
                var data = new JsonObject();
                foreach (var (mime, value) in output.Data)
                    // Text types are stored as lists of lines, as Jupyter does; JSON types stay JSON.
                    data[mime] = value is JsonValue v && v.TryGetValue(out string? s) && !mime.EndsWith("json", StringComparison.Ordinal)
                        ? Lines(s)
                        : value?.DeepClone();
                o["data"] = data;
                o["metadata"] = output.OutputMetadata.DeepClone();
                if (output.Kind == OutputKind.ExecuteResult) o["execution_count"] = output.ExecutionCount;
                break;
        }
        return o;
    }

    /// <summary>"a\nb" → ["a\n", "b"]: each line keeps its newline, as nbformat stores text.</summary>
    static JsonArray Lines(string text)
    {
        var lines = new JsonArray();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\n') continue;
            lines.Add(text[start..(i + 1)]);
            start = i + 1;
        }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }
}
