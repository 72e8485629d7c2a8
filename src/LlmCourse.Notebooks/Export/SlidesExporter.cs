using System.Net;
using System.Text;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Export;

/// <summary>
/// A notebook as a slide deck in one self-contained HTML file: a new slide at every level-1 or
/// level-2 heading and at every <c>---</c> line in markdown; code cells and their outputs go on the
/// slide they follow. Jupyter's slideshow metadata (RISE) is honoured: <c>slide</c>/<c>subslide</c>
/// start a slide, <c>skip</c> and <c>notes</c> leave the cell out. Arrow keys, space, or a click
/// move through the deck; printing gives one slide per page.
/// </summary>
public static class SlidesExporter
{
    public static void Save(Notebook notebook, string notebookPath, string htmlPath) =>
        AtomicText.Write(htmlPath, Export(notebook, notebookPath));

    public static string Export(Notebook notebook, string? notebookPath = null)
    {
        var baseDirectory = notebookPath is null ? null : Path.GetDirectoryName(Path.GetFullPath(notebookPath));
        var slides = Split(notebook).Select(parts => string.Concat(parts.Select(p => p.Render(baseDirectory)))).ToList();
        var html = new StringBuilder();
        html.Append(ExportStyles.Head(HtmlExporter.Title(notebook, notebookPath), ExportStyles.Slides)).Append("<body>\n");
        for (var i = 0; i < slides.Count; i++)
            html.Append($"<section class=\"slide{(i == 0 ? " current" : "")}\" id=\"slide-{i + 1}\">{slides[i]}</section>\n");
        html.Append("<div class=\"counter\"></div>\n<script>").Append(Navigation).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    /// <summary>A piece of a slide: markdown text, or a code cell with its outputs.</summary>
    internal sealed record Part(string? Markdown, Cell? Code, Cell Owner)
    {
        public string Render(string? baseDirectory) => Markdown is not null
            ? MarkdownRenderer.ToHtml(Markdown, baseDirectory, Owner.Attachments)
            : HtmlExporter.RenderCell(Code!, baseDirectory);
    }

    internal static List<List<Part>> Split(Notebook notebook)
    {
        var slides = new List<List<Part>>();
        void StartSlide() => slides.Add([]);
        void AddToSlide(Part part)
        {
            if (slides.Count == 0) StartSlide();
            slides[^1].Add(part);
        }

        foreach (var cell in notebook.Cells)
        {
            var slideType = cell.Metadata["slideshow"]?["slide_type"]?.GetValue<string>();
            if (slideType is "skip" or "notes" || cell.Kind == CellKind.Raw) continue;
            if (slideType is "slide" or "subslide") StartSlide();
            if (cell.Kind == CellKind.Code)
            {
                AddToSlide(new Part(null, cell, cell));
                continue;
            }
            foreach (var (chunk, startsSlide) in Chunks(cell.Source))
            {
                if (startsSlide && (slides.Count == 0 || slides[^1].Count > 0)) StartSlide();
                if (chunk.Trim().Length > 0) AddToSlide(new Part(chunk, null, cell));
            }
        }
        return slides.Where(s => s.Count > 0).ToList();
    }

    /// <summary>Markdown cut before each # or ## heading and at each --- line (outside code fences).</summary>
    static IEnumerable<(string Chunk, bool StartsSlide)> Chunks(string markdown)
    {
        var current = new StringBuilder();
        var startsSlide = false;
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
            var isBreak = !inFence && trimmed.Trim() == "---";
            var isHeading = !inFence && (trimmed.StartsWith("# ", StringComparison.Ordinal) || trimmed.StartsWith("## ", StringComparison.Ordinal));
            if (isBreak || isHeading)
            {
                if (current.Length > 0 || startsSlide) yield return (current.ToString(), startsSlide);
                current.Clear();
                startsSlide = true;
                if (isBreak) continue;
            }
            current.Append(line).Append('\n');
        }
        // A cell that is only "---", or ends with it, still cuts: the next cell starts the new slide.
        if (current.Length > 0 || startsSlide) yield return (current.ToString(), startsSlide);
    }

    const string Navigation = """
        (function () {
          const slides = Array.from(document.querySelectorAll('.slide'));
          const counter = document.querySelector('.counter');
          let current = 0;
          function show(i) {
            current = Math.max(0, Math.min(slides.length - 1, i));
            slides.forEach((s, k) => s.classList.toggle('current', k === current));
            counter.textContent = (current + 1) + ' / ' + slides.length;
            history.replaceState(null, '', '#' + (current + 1));
          }
          document.addEventListener('keydown', e => {
            if (['ArrowRight', 'PageDown', ' ', 'ArrowDown'].includes(e.key)) { e.preventDefault(); show(current + 1); }
            if (['ArrowLeft', 'PageUp', 'ArrowUp'].includes(e.key)) { e.preventDefault(); show(current - 1); }
            if (e.key === 'Home') show(0);
            if (e.key === 'End') show(slides.length - 1);
          });
          document.addEventListener('click', e => {
            if (e.target.closest('a, pre, code, svg')) return;
            show(e.clientX < window.innerWidth / 3 ? current - 1 : current + 1);
          });
          show((parseInt(location.hash.slice(1)) || 1) - 1);
        })();
        """;
}
