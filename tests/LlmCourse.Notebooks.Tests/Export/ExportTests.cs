using System.Text.RegularExpressions;
using LlmCourse.Charts;
using LlmCourse.Notebooks.Export;
using LlmCourse.Notebooks.Formatting;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Tests.Export;

/// <summary>HTML pages and slide decks: self-contained, escaped, with outputs where they belong.</summary>
public sealed class ExportTests
{
    static Notebook Executed()
    {
        var chartCell = Cell.Code("new LineChart(\"Loss\").Add(\"train\", new[] { 3.0, 2.0 })");
        chartCell.ExecutionCount = 2;
        chartCell.Outputs.Add(Output.Result(ValueFormatter.Format(new LineChart("Loss").Add("train", new[] { 3.0, 2.0 })), 2));
        var printing = Cell.Code("Console.WriteLine(\"<script>alert(1)</script>\");");
        printing.ExecutionCount = 1;
        printing.Outputs.Add(Output.Stream("stdout", "<script>alert(1)</script>\n"));
        var failing = Cell.Code("throw new Exception();");
        failing.ExecutionCount = 3;
        failing.Outputs.Add(Output.Failure("System.Exception", "boom", ["System.Exception: boom", "\u001b[31m   at <cell> in cell 4, line 1\u001b[0m"]));
        return Notebook.Create(
            Cell.Markdown("# Lesson 0: Setup\n\nThe loss is $L = -\\log p$ and\n\n$$\\frac{1}{N}\\sum_i x_i$$\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
            printing, chartCell, failing,
            Cell.Markdown("## Part one\n\ntext\n\n---\n\nafter the break\n\n## Part two\n\n## Part three"));
    }

    [Fact]
    public void Html_IsSelfContained_WithMathCodeAndOutputs()
    {
        var html = HtmlExporter.Export(Executed(), "/tmp/00-setup.ipynb");

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<title>Lesson 0: Setup</title>", html);
        Assert.DoesNotMatch(new Regex("(src|href)=\"(https?:)?//"), html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("<script", html.Replace("&lt;script", ""));
        Assert.Contains("<math xmlns=\"http://www.w3.org/1998/Math/MathML\">", html);
        Assert.Contains("<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"block\">", html);
        Assert.Contains("<table>", html);
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("In [2]:", html);
        Assert.Contains("<pre class=\"output error\">System.Exception: boom\n   at &lt;cell&gt; in cell 4, line 1</pre>", html);
        Assert.Contains("<span class=\"tok-keyword\">new</span>", html);
        Assert.Contains("<nav class=\"toc\">", html);
    }

    [Fact]
    public void Highlighter_ClassifiesTokens_AndEscapes()
    {
        var html = CSharpHighlighter.Highlight("#r \"../x.dll\"\nvar s = \"a<b\"; // note\nint n = 42;\nTensor t = null;");

        Assert.Contains("<span class=\"tok-directive\">#r &quot;../x.dll&quot;</span>", html);
        Assert.Contains("<span class=\"tok-string\">&quot;a&lt;b&quot;</span>", html);
        Assert.Contains("<span class=\"tok-comment\">// note</span>", html);
        Assert.Contains("<span class=\"tok-number\">42</span>", html);
        Assert.Contains("<span class=\"tok-type\">Tensor</span>", html);
        Assert.Contains("<span class=\"tok-keyword\">var</span>", html);
    }

    [Fact]
    public void Markdown_InlinesImagesBesideTheNotebook()
    {
        var dir = Directory.CreateTempSubdirectory("llmcourse-img-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "dot.png"), [0x89, 0x50, 0x4e, 0x47]);
            var html = MarkdownRenderer.ToHtml("![a dot](dot.png) ![remote](https://example.com/x.png)", dir);
            Assert.Contains("src=\"data:image/png;base64,iVBORw==\"", html);
            Assert.Contains("src=\"https://example.com/x.png\"", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Slides_SplitAtHeadingsAndBreaks_AndHonourSlideshowMetadata()
    {
        var notebook = Executed();
        var skipped = Cell.Markdown("# Hidden");
        skipped.Metadata["slideshow"] = new System.Text.Json.Nodes.JsonObject { ["slide_type"] = "skip" };
        notebook.Cells.Add(skipped);

        var slides = SlidesExporter.Split(notebook);
        var html = SlidesExporter.Export(notebook, "/tmp/00-setup.ipynb");

        // Title slide (with the three code cells), part one, after the break, part two, part three.
        Assert.Equal(5, slides.Count);
        Assert.Equal(4, slides[0].Count);
        Assert.Equal(5, Regex.Matches(html, "<section class=\"slide").Count);
        Assert.DoesNotContain("Hidden", html);
        Assert.Contains("class=\"slide current\" id=\"slide-1\"", html);
        Assert.Contains("ArrowRight", html);
    }

    /// <summary>
    /// A lecturer cuts with <c>---</c> between code cells too: a markdown cell that is only <c>---</c>, or ends with it,
    /// starts the slide the next code cell goes on; a <c>---</c> inside a code fence is text; breaks in a row make no empty slide.
    /// </summary>
    [Fact]
    public void Slides_CutAtABreakCellBetweenCodeCells_ButNotInsideACodeFence()
    {
        var notebook = Notebook.Create(
            Cell.Markdown("## 1. Attention *(≈ 10 min)*"),
            Cell.Code("var a = 1;"),
            Cell.Markdown("---"),
            Cell.Code("var b = 2;"),
            Cell.Markdown("The heatmaps:\n\n---"),
            Cell.Markdown("---\n"),
            Cell.Code("var c = 3;"),
            Cell.Markdown("```\n---\n```\nstill the same slide"));

        var slides = SlidesExporter.Split(notebook);

        Assert.Equal(3, slides.Count);
        Assert.Equal(["var a = 1;"], slides[0].Where(p => p.Code is not null).Select(p => p.Code!.Source));
        Assert.Equal("var b = 2;", Assert.Single(slides[1], p => p.Code is not null).Code!.Source);
        Assert.Contains(slides[1], p => p.Markdown is not null && p.Markdown.Contains("The heatmaps:"));
        Assert.Equal("var c = 3;", slides[2][0].Code!.Source);
        Assert.Contains(slides[2], p => p.Markdown is not null && p.Markdown.Contains("still the same slide") && p.Markdown.Contains("---"));
    }
}
