using System.CommandLine;
using LlmCourse.Notebooks.Export;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary>
/// <c>llmcourse slides out/05-gpt.ipynb</c>: a self-contained HTML deck, a slide per heading or
/// <c>---</c>; arrow keys to move, print for a PDF.
/// </summary>
static class SlidesCommand
{
    public static Command Create(IAnsiConsole console) =>
        Exporting.Command(console, "slides", "Write a self-contained HTML slide deck of each notebook (a slide per heading or ---).",
            ".slides.html", SlidesExporter.Save);
}
