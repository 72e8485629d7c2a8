using System.Net;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Markdig;
using Markdig.Extensions.Mathematics;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;

namespace LlmCourse.Notebooks.Export;

/// <summary>
/// Markdown cells to HTML with Markdig's advanced extensions (tables, task lists, footnotes,
/// heading ids, math), math as MathML (<see cref="TexToMathMl"/>), and images made self-contained:
/// cell attachments and pictures beside the notebook become data URIs.
/// </summary>
public static partial class MarkdownRenderer
{
    static readonly MarkdownPipeline pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static MarkdownDocument Parse(string markdown) => Markdown.Parse(markdown, pipeline);

    /// <summary>HTML for one markdown cell; <paramref name="baseDirectory"/> is where relative images are looked for.</summary>
    public static string ToHtml(string markdown, string? baseDirectory = null, JsonObject? attachments = null)
    {
        var document = Parse(markdown);
        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        pipeline.Setup(renderer);
        renderer.ObjectRenderers.ReplaceOrAdd<HtmlMathInlineRenderer>(new MathInlineRenderer());
        renderer.ObjectRenderers.ReplaceOrAdd<HtmlMathBlockRenderer>(new MathBlockRenderer());
        renderer.Render(document);
        writer.Flush();
        return InlineImages(writer.ToString(), baseDirectory, attachments);
    }

    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImageSource();

    static string InlineImages(string html, string? baseDirectory, JsonObject? attachments) =>
        ImageSource().Replace(html, match =>
        {
            var source = WebUtility.HtmlDecode(match.Groups[1].Value);
            if (source.StartsWith("attachment:", StringComparison.Ordinal)
                && attachments?[source["attachment:".Length..]] is JsonObject bundle
                && bundle.FirstOrDefault() is { Key: var mime, Value: JsonValue data })
                return $"<img src=\"data:{mime};base64,{data.GetValue<string>()}\"";
            if (baseDirectory is null || source.Contains(':', StringComparison.Ordinal) || source.StartsWith("//", StringComparison.Ordinal))
                return match.Value;
            var path = Path.GetFullPath(Path.Combine(baseDirectory, Uri.UnescapeDataString(source)));
            if (!File.Exists(path)) return match.Value;
            var type = Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".png" => "image/png",
                ".jpg" or ".jpeg" => "image/jpeg",
                ".gif" => "image/gif",
                ".svg" => "image/svg+xml",
                ".webp" => "image/webp",
                _ => null,
            };
            return type is null ? match.Value : $"<img src=\"data:{type};base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\"";
        });

    sealed class MathInlineRenderer : HtmlObjectRenderer<MathInline>
    {
        protected override void Write(HtmlRenderer renderer, MathInline math) =>
            renderer.Write(TexToMathMl.ConvertOrKeep(math.Content.ToString(), display: math.DelimiterCount >= 2));
    }

    sealed class MathBlockRenderer : HtmlObjectRenderer<MathBlock>
    {
        protected override void Write(HtmlRenderer renderer, MathBlock math)
        {
            var tex = string.Join("\n", math.Lines.Lines.Take(math.Lines.Count).Select(l => l.Slice.ToString()));
            renderer.Write("<div class=\"math-block\">").Write(TexToMathMl.ConvertOrKeep(tex, display: true)).WriteLine("</div>");
        }
    }

    /// <summary>The text of the first level-1 heading, for a page title.</summary>
    public static string? FirstHeading(string markdown) =>
        Parse(markdown).Descendants<HeadingBlock>().FirstOrDefault(h => h.Level == 1) is { Inline: { } inline }
            ? string.Concat(inline.Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString()))
            : null;
}
