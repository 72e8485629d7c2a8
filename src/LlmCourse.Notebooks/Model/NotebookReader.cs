using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>
/// Reads nbformat 4 notebooks. Multi-line strings may be a string or a list of lines (nbformat
/// allows both); fields the model does not name are kept in the Extra objects. Errors name the
/// file, the cell (1-based, as a reader counts) and the field.
/// </summary>
public static class NotebookReader
{
    public static Notebook Load(string path)
    {
        string json;
        try
        {
            // Strict UTF-8 (nbformat's encoding): a notebook saved in another encoding is named as
            // such, instead of being read with its accented letters silently replaced by U+FFFD.
            using var reader = new StreamReader(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true),
                detectEncodingFromByteOrderMarks: true);
            json = reader.ReadToEnd();
        }
        catch (IOException e) { throw new NotebookFormatException(path, null, $"cannot be read: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new NotebookFormatException(path, null, $"cannot be read: {e.Message}", e); }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new NotebookFormatException(path, null,
                $"is not UTF-8 (invalid byte{(e.BytesUnknown is { Length: > 0 } b ? $" 0x{b[0]:X2}" : "")}); " +
                "notebooks are UTF-8 files: re-save it as UTF-8 in your editor (or `iconv -f latin1 -t utf-8`)", e);
        }
        if (json.Trim().Length == 0)
            throw new NotebookFormatException(path, null,
                "is empty (no JSON at all): was it saved? Restore it from git (`git checkout -- <file>`) or save it again from the editor");
        return Parse(json, path);
    }

    public static Notebook Parse(string json, string path = "<notebook>")
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new NotebookFormatException(path, null,
                $"is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
        if (root is not JsonObject top) throw new NotebookFormatException(path, null, "the top level is not a JSON object");

        var major = top["nbformat"] is JsonValue m && m.TryGetValue(out int mv) ? mv
            : throw new NotebookFormatException(path, null, "has no integer 'nbformat' field; is it a Jupyter notebook?");
        if (major != 4)
            throw new NotebookFormatException(path, null,
                $"is nbformat {major}; only nbformat 4 is read (convert it with `jupyter nbconvert --to notebook`)");
        var minor = top["nbformat_minor"] is JsonValue n && n.TryGetValue(out int nv) ? nv : 0;

        var notebook = new Notebook
        {
            FormatMajor = major,
            FormatMinor = minor,
            Metadata = top["metadata"] switch
            {
                JsonObject o => (JsonObject)o.DeepClone(),
                null => [],
                _ => throw new NotebookFormatException(path, null, "'metadata' is not a JSON object"),
            },
        };
        if (top["cells"] is not JsonArray cells)
            throw new NotebookFormatException(path, null, "has no 'cells' list");

        for (var i = 0; i < cells.Count; i++) notebook.Cells.Add(ReadCell(cells[i], path, i));

        foreach (var (key, value) in top)
            if (key is not ("nbformat" or "nbformat_minor" or "metadata" or "cells"))
                notebook.Extra[key] = value?.DeepClone();
        return notebook;
    }

    static Cell ReadCell(JsonNode? node, string path, int index)
    {
        if (node is not JsonObject o) throw new NotebookFormatException(path, index, "is not a JSON object");
        var kind = Text(o["cell_type"], path, index, "cell_type") switch
        {
            "code" => CellKind.Code,
            "markdown" => CellKind.Markdown,
            "raw" => CellKind.Raw,
            null => throw new NotebookFormatException(path, index, "has no 'cell_type'"),
            var other => throw new NotebookFormatException(path, index,
                $"has cell_type '{other}'; expected 'code', 'markdown' or 'raw'"),
        };
        var source = MultilineText(o["source"], path, index, "source") ?? "";
        var id = o["id"] is null ? null : Text(o["id"], path, index, "id");
        var cell = new Cell(kind, source, id)
        {
            Metadata = o["metadata"] switch
            {
                JsonObject m => (JsonObject)m.DeepClone(),
                null => [],
                _ => throw new NotebookFormatException(path, index, "'metadata' is not a JSON object"),
            },
            Attachments = o["attachments"] is JsonObject a ? (JsonObject)a.DeepClone() : null,
        };

        if (kind == CellKind.Code)
        {
            cell.ExecutionCount = o["execution_count"] switch
            {
                null => null,
                JsonValue v when v.TryGetValue(out int count) => count,
                _ => throw new NotebookFormatException(path, index, "'execution_count' is neither null nor an integer"),
            };
            switch (o["outputs"])
            {
                case null: break;
                case JsonArray outputs:
                    for (var j = 0; j < outputs.Count; j++) cell.Outputs.Add(ReadOutput(outputs[j], path, index, j));
                    break;
                default: throw new NotebookFormatException(path, index, "'outputs' is not a list");
            }
        }

        foreach (var (key, value) in o)
            if (key is not ("cell_type" or "source" or "id" or "metadata" or "attachments" or "execution_count" or "outputs"))
                cell.Extra[key] = value?.DeepClone();
        return cell;
    }

    static Output ReadOutput(JsonNode? node, string path, int cellIndex, int outputIndex)
    {
        var where = $"output {outputIndex + 1}";
        if (node is not JsonObject o) throw new NotebookFormatException(path, cellIndex, $"{where} is not a JSON object");
        var kind = Text(o["output_type"], path, cellIndex, $"{where} output_type") switch
        {
            "stream" => OutputKind.Stream,
            "display_data" => OutputKind.DisplayData,
            "execute_result" => OutputKind.ExecuteResult,
            "error" => OutputKind.Error,
            null => throw new NotebookFormatException(path, cellIndex, $"{where} has no 'output_type'"),
            var other => throw new NotebookFormatException(path, cellIndex,
                $"{where} has output_type '{other}'; expected stream, display_data, execute_result or error"),
        };
        var output = new Output(kind);
        string[] known;
        switch (kind)
        {
            case OutputKind.Stream:
                output.Name = Text(o["name"], path, cellIndex, $"{where} name") ?? "stdout";
                output.Text = MultilineText(o["text"], path, cellIndex, $"{where} text") ?? "";
                known = ["output_type", "name", "text"];
                break;
            case OutputKind.Error:
                output.ErrorName = Text(o["ename"], path, cellIndex, $"{where} ename") ?? "";
                output.ErrorValue = Text(o["evalue"], path, cellIndex, $"{where} evalue") ?? "";
                output.Traceback = o["traceback"] is JsonArray lines
                    ? lines.Select(l => l is JsonValue v && v.TryGetValue(out string? s) ? s : l?.ToJsonString() ?? "").ToList()
                    : [];
                known = ["output_type", "ename", "evalue", "traceback"];
                break;
            default:
                output.Data = o["data"] switch
                {
                    JsonObject d => (JsonObject)d.DeepClone(),
                    null => [],
                    _ => throw new NotebookFormatException(path, cellIndex, $"{where} 'data' is not a JSON object"),
                };
                output.OutputMetadata = o["metadata"] is JsonObject md ? (JsonObject)md.DeepClone() : [];
                output.ExecutionCount = o["execution_count"] is JsonValue c && c.TryGetValue(out int count) ? count : null;
                known = ["output_type", "data", "metadata", "execution_count"];
                break;
        }
        foreach (var (key, value) in o)
            if (!known.Contains(key)) output.Extra[key] = value?.DeepClone();
        return output;
    }

    static string? Text(JsonNode? node, string path, int index, string field) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new NotebookFormatException(path, index, $"'{field}' is not a string"),
    };

    /// <summary>nbformat's multiline string: one string, or a list of strings to concatenate.</summary>
    static string? MultilineText(JsonNode? node, string path, int index, string field)
    {
        switch (node)
        {
            case null: return null;
            case JsonValue v when v.TryGetValue(out string? s): return s;
            case JsonArray lines:
                var text = new System.Text.StringBuilder();
                for (var i = 0; i < lines.Count; i++)
                {
                    if (lines[i] is JsonValue line && line.TryGetValue(out string? part)) text.Append(part);
                    else throw new NotebookFormatException(path, index, $"'{field}' line {i + 1} is not a string");
                }
                return text.ToString();
            default:
                throw new NotebookFormatException(path, index, $"'{field}' is neither a string nor a list of strings");
        }
    }
}
