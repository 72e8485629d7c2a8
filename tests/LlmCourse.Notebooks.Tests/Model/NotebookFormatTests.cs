using System.Text.Json.Nodes;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;

namespace LlmCourse.Notebooks.Tests.Model;

/// <summary>Reading and writing nbformat 4.5: what we do not understand survives, bad files are named.</summary>
public sealed class NotebookFormatTests
{
    static JsonNode Json(string text) => JsonNode.Parse(text)!;

    [Fact]
    public void RoundTrip_OfAJupyterWrittenNotebook_IsByteForByteIdentical()
    {
        var path = FixtureFolder.Source("success.ipynb");
        var original = File.ReadAllText(path);

        Assert.Equal(original, NotebookWriter.Serialize(NotebookReader.Load(path)));
    }

    [Fact]
    public void RoundTrip_KeepsUnknownFieldsInNotebookCellAndOutputMetadata()
    {
        var path = FixtureFolder.Source("roundtrip.ipynb");
        var original = Json(File.ReadAllText(path));

        var written = Json(NotebookWriter.Serialize(NotebookReader.Load(path)));

        Assert.True(JsonNode.DeepEquals(original["metadata"], written["metadata"]));
        var (before, after) = (original["cells"]!.AsArray(), written["cells"]!.AsArray());
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            // Everything but the source is kept as it was; the source may change form, not text.
            var (b, a) = ((JsonObject)before[i]!.DeepClone(), (JsonObject)after[i]!.DeepClone());
            Assert.Equal(Text(b["source"]), Text(a["source"]));
            b.Remove("source");
            a.Remove("source");
            Assert.True(JsonNode.DeepEquals(b, a), $"cell {i + 1}:\n{b}\n!=\n{a}");
        }
        Assert.Equal("me", written["cells"]![1]!["outputs"]![0]!["metadata"]!["custom"]!["keep"]!.GetValue<string>());
        Assert.Equal(3, written["cells"]![1]!["unknown_cell_field"]!["k"]!.AsArray().Count);
    }

    static string Text(JsonNode? source) => source switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        _ => source!.GetValue<string>(),
    };

    [Fact]
    public void Source_AsStringOrListOfLines_ReadsTheSame_AndIsWrittenAsLines()
    {
        var asString = NotebookReader.Parse("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","id":"a","metadata":{},"outputs":[],"execution_count":null,"source":"a\nb\n"}]}""");
        var asLines = NotebookReader.Parse("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","id":"a","metadata":{},"outputs":[],"execution_count":null,"source":["a\n","b\n"]}]}""");

        Assert.Equal("a\nb\n", asString.Cells[0].Source);
        Assert.Equal(asString.Cells[0].Source, asLines.Cells[0].Source);
        Assert.Equal(["a\n", "b\n"], Json(NotebookWriter.Serialize(asString))["cells"]![0]!["source"]!.AsArray().Select(l => l!.GetValue<string>()));
    }

    [Fact]
    public void NewNotebook_CarriesTheDotNetKernelMetadata_AndCellIds()
    {
        var json = Json(NotebookWriter.Serialize(Notebook.Create(Cell.Markdown("# Title"), Cell.Code("1 + 1"))));

        Assert.Equal(4, json["nbformat"]!.GetValue<int>());
        Assert.Equal(5, json["nbformat_minor"]!.GetValue<int>());
        Assert.Equal(".net-csharp", json["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal(".NET (C#)", json["metadata"]!["kernelspec"]!["display_name"]!.GetValue<string>());
        Assert.Equal("C#", json["metadata"]!["kernelspec"]!["language"]!.GetValue<string>());
        Assert.Equal("C#", json["metadata"]!["language_info"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", json["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
        var code = json["cells"]![1]!;
        Assert.Equal("csharp", code["metadata"]!["dotnet_interactive"]!["language"]!.GetValue<string>());
        Assert.Equal("csharp", code["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
        foreach (var cell in json["cells"]!.AsArray())
            Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", cell!["id"]!.GetValue<string>());
    }

    [Fact]
    public void Writer_EscapesLikePython_AndKeepsNonAscii()
    {
        var text = NotebookWriter.Serialize(Notebook.Create(Cell.Markdown("π \"q\" \\ \t\u0001")));

        Assert.Contains("\"π \\\"q\\\" \\\\ \\t\\u0001\"", text);
    }

    [Theory]
    [InlineData("not json", null, "is not valid JSON")]
    [InlineData("""{"nbformat":3,"cells":[]}""", null, "nbformat 3")]
    [InlineData("""{"cells":[]}""", null, "no integer 'nbformat'")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{}}""", null, "no 'cells' list")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"markdown","source":""},{"source":"x"}]}""", 1, "has no 'cell_type'")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"sql","source":""}]}""", 0, "cell_type 'sql'")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","source":["a",3]}]}""", 0, "'source' line 2 is not a string")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","source":"","outputs":{}}]}""", 0, "'outputs' is not a list")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","source":"","outputs":[{"output_type":"bogus"}]}]}""", 0, "output 1 has output_type 'bogus'")]
    [InlineData("""{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"code","source":"","execution_count":"one"}]}""", 0, "'execution_count'")]
    public void Malformed_NamesTheFileTheCellAndTheProblem(string json, int? cellIndex, string problem)
    {
        var e = Assert.Throws<NotebookFormatException>(() => NotebookReader.Parse(json, "lessons/broken.ipynb"));

        Assert.Equal(cellIndex, e.CellIndex);
        Assert.Contains(problem, e.Message);
        Assert.StartsWith(cellIndex is { } i ? $"lessons/broken.ipynb: cell {i + 1}: " : "lessons/broken.ipynb: ", e.Message);
    }

    [Fact]
    public void Fault_AnEmptyFile_IsNamedAsEmpty_NotAsBadJson()
    {
        var dir = Directory.CreateTempSubdirectory("llmcourse-empty-").FullName;
        try
        {
            var path = Path.Combine(dir, "empty.ipynb");
            File.WriteAllBytes(path, []);
            var e = Assert.Throws<NotebookFormatException>(() => NotebookReader.Load(path));
            Assert.StartsWith($"{path}: is empty", e.Message);
            Assert.Contains("git checkout", e.Message);

            File.WriteAllText(path, "  \n");
            Assert.Contains("is empty", Assert.Throws<NotebookFormatException>(() => NotebookReader.Load(path)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Fault_ANotebookThatIsNotUtf8_IsNamed_NotReadWithReplacementCharacters()
    {
        var dir = Directory.CreateTempSubdirectory("llmcourse-latin1-").FullName;
        try
        {
            var path = Path.Combine(dir, "latin1.ipynb");
            var json = """{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[{"cell_type":"markdown","source":"café"}]}""";
            File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(json));   // é is the lone byte 0xE9

            var e = Assert.Throws<NotebookFormatException>(() => NotebookReader.Load(path));

            Assert.StartsWith($"{path}: is not UTF-8 (invalid byte 0xE9)", e.Message);
            Assert.Contains("re-save it as UTF-8", e.Message);
            // The same text in UTF-8, with or without a byte-order mark, reads.
            File.WriteAllText(path, json, new System.Text.UTF8Encoding(true));
            Assert.Equal("café", NotebookReader.Load(path).Cells[0].Source);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Save_WritesAtomically_AndReadsBack()
    {
        var dir = Directory.CreateTempSubdirectory("llmcourse-save-").FullName;
        try
        {
            var path = Path.Combine(dir, "sub", "n.ipynb");
            NotebookWriter.Save(Notebook.Create(Cell.Code("42")), path);

            Assert.Equal("42", NotebookReader.Load(path).Cells[0].Source);
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        finally { Directory.Delete(dir, true); }
    }
}
