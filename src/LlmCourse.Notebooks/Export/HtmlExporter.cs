using System.Net;
using System.Text;
using LlmCourse.Notebooks.Model;
using Markdig.Renderers.Html;
using Markdig.Syntax;

namespace LlmCourse.Notebooks.Export;

/// <summary>
/// A notebook as one self-contained HTML page a student can open anywhere, offline: markdown
/// rendered, equations as MathML, code highlighted, outputs inline (charts are inline SVG). No
/// script, no font and no style sheet is fetched.
/// </summary>
public static class HtmlExporter
{
    public static void Save(Notebook notebook, string notebookPath, string htmlPath) =>
        AtomicText.Write(htmlPath, Export(notebook, notebookPath));

    public static string Export(Notebook notebook, string? notebookPath = null)
    {
        var baseDirectory = notebookPath is null ? null : Path.GetDirectoryName(Path.GetFullPath(notebookPath));
        var title = Title(notebook, notebookPath);
        var html = new StringBuilder();
        html.Append(ExportStyles.Head(title, ExportStyles.Page)).Append("<body><main>\n");
        html.Append($"<header class=\"meta\">{WebUtility.HtmlEncode(Describe(notebook, notebookPath))}</header>\n");
        html.Append(TableOfContents(notebook));
        foreach (var cell in notebook.Cells)
            html.Append(RenderCell(cell, baseDirectory)).Append('\n');
        return html.Append("</main></body></html>\n").ToString();
    }

    internal static string RenderCell(Cell cell, string? baseDirectory)
    {
        switch (cell.Kind)
        {
            case CellKind.Markdown:
                return $"<section class=\"cell markdown\">{MarkdownRenderer.ToHtml(cell.Source, baseDirectory, cell.Attachments)}</section>";
            case CellKind.Raw:
                return $"<section class=\"cell raw\"><pre>{WebUtility.HtmlEncode(cell.Source)}</pre></section>";
        }
        var code = new StringBuilder("<section class=\"cell code\"><div class=\"input\">");
        code.Append($"<div class=\"prompt\">In [{(cell.ExecutionCount is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : " ")}]:</div>")
            .Append($"<pre class=\"source\"><code class=\"language-csharp\">{CSharpHighlighter.Highlight(cell.Source)}</code></pre></div>");
        if (cell.Outputs.Count > 0)
        {
            code.Append("<div class=\"outputs\">");
            foreach (var output in cell.Outputs) code.Append(OutputRenderer.Render(output, baseDirectory));
            code.Append("</div>");
        }
        return code.Append("</section>").ToString();
    }

    /// <summary>The first level-1 heading, else the file name.</summary>
    internal static string Title(Notebook notebook, string? notebookPath) =>
        notebook.Cells.Where(c => c.Kind == CellKind.Markdown).Select(c => MarkdownRenderer.FirstHeading(c.Source)).FirstOrDefault(h => h is not null)
        ?? (notebookPath is null ? "Notebook" : Path.GetFileNameWithoutExtension(notebookPath));

    static string Describe(Notebook notebook, string? notebookPath)
    {
        var parts = new List<string>();
        if (notebookPath is not null) parts.Add(Path.GetFileName(notebookPath));
        if (notebook.Metadata["llmcourse"] is { } run)
        {
            var mode = run["mode"]?.GetValue<string>() ?? "?";
            var seconds = run["seconds"]?.GetValue<double>();
            var ok = run["succeeded"]?.GetValue<bool>() ?? true;
            parts.Add($"executed headless in {mode} mode{(seconds is { } s ? $" in {s:0.#} s" : "")}{(ok ? "" : ", with errors")}");
        }
        else if (notebook.CodeCells.All(c => c.ExecutionCount is null)) parts.Add("not executed");
        return string.Join(" · ", parts);
    }

    static string TableOfContents(Notebook notebook)
    {
        var headings = notebook.Cells.Where(c => c.Kind == CellKind.Markdown)
            .SelectMany(c => MarkdownRenderer.Parse(c.Source).Descendants<HeadingBlock>())
            .Where(h => h.Level == 2 && h.Inline is not null)
            .Select(h => (Id: h.GetAttributes().Id, Text: string.Concat(h.Inline!.Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString()))))
            .Where(h => h.Id is not null)
            .ToList();
        if (headings.Count < 3) return "";
        var toc = new StringBuilder("<nav class=\"toc\"><strong>Contents</strong><ol>");
        foreach (var (id, text) in headings) toc.Append($"<li><a href=\"#{WebUtility.HtmlEncode(id)}\">{WebUtility.HtmlEncode(text)}</a></li>");
        return toc.Append("</ol></nav>\n").ToString();
    }
}
