using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;

namespace LlmCourse.Kernel.Tests.Support;

/// <summary>A notebook read the way the kernel's own tools read it (Microsoft.DotNet.Interactive.Documents).</summary>
public static class NotebookCells
{
    static KernelInfoCollection KernelInfos() => new() { new KernelInfo("csharp", "C#", ["c#", "C#"]) };

    public static InteractiveDocument Read(string path)
    {
        var document = Notebook.Parse(File.ReadAllText(path), KernelInfos());
        return document;
    }

    /// <summary>The code cells, in order (markdown cells are not submitted).</summary>
    public static IReadOnlyList<InteractiveDocumentElement> CodeCells(InteractiveDocument document) =>
        document.Elements.Where(e => e.KernelName is not ("markdown" or "md")).ToList();

    /// <summary>A code cell's outputs as stored in an executed notebook.</summary>
    public static List<CellOutput> Outputs(InteractiveDocumentElement cell)
    {
        var outputs = new List<CellOutput>();
        foreach (var output in cell.Outputs)
        {
            switch (output)
            {
                case TextElement text:
                    CellOutput.AppendStream(outputs, text.Name, text.Text);
                    break;
                case DisplayElement display:
                    outputs.Add(new CellOutput(OutputType.Display, Bundle(display.Data)));
                    break;
                case ReturnValueElement result:
                    outputs.Add(new CellOutput(OutputType.Result, Bundle(result.Data)));
                    break;
                case ErrorElement error:
                    outputs.Add(CellOutput.Error($"{error.ErrorName}: {error.ErrorValue}"));
                    break;
            }
        }
        return outputs;
    }

    static List<KeyValuePair<string, string>> Bundle(IDictionary<string, object> data) =>
        data.Select(d => KeyValuePair.Create(d.Key, CellOutput.DataText(d.Value))).ToList();
}
