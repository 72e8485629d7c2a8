using System.Net;
using System.Text.RegularExpressions;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Export;

/// <summary>
/// One cell output as HTML, choosing the richest MIME type a browser shows offline, as a notebook
/// front end does: HTML, SVG, images, markdown, LaTeX, JSON, then plain text.
/// </summary>
static partial class OutputRenderer
{
    static readonly string[] Preference =
        ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/latex", "application/json", "text/plain"];

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    public static string Render(Output output, string? baseDirectory)
    {
        switch (output.Kind)
        {
            case OutputKind.Stream:
                return $"<pre class=\"output stream {(output.Name == "stderr" ? "stderr" : "stdout")}\">{Text(output.Text ?? "")}</pre>";
            case OutputKind.Error:
                var lines = output.Traceback.Count > 0 ? output.Traceback : [$"{output.ErrorName}: {output.ErrorValue}"];
                return $"<pre class=\"output error\">{Text(string.Join("\n", lines))}</pre>";
        }
        var mime = Preference.FirstOrDefault(m => output.Data.ContainsKey(m)) ?? output.Data.Select(d => d.Key).FirstOrDefault();
        if (mime is null) return "";
        var content = output.GetText(mime) ?? "";
        var body = mime switch
        {
            "text/html" or "image/svg+xml" => content,
            "image/png" or "image/jpeg" => $"<img src=\"data:{mime};base64,{content.Replace("\n", "")}\" alt=\"output\">",
            "text/markdown" => MarkdownRenderer.ToHtml(content, baseDirectory),
            "text/latex" => TexToMathMl.ConvertOrKeep(content.Trim().Trim('$'), display: true),
            _ => $"<pre>{Text(content)}</pre>",
        };
        return $"<div class=\"output rich\">{body}</div>";
    }

    static string Text(string text) => WebUtility.HtmlEncode(AnsiEscape().Replace(text, ""));
}
