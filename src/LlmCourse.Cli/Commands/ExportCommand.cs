using System.CommandLine;
using LlmCourse.Notebooks.Export;
using LlmCourse.Notebooks.Model;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary><c>llmcourse export out/00-setup.ipynb</c>: one self-contained HTML page per notebook, as it is (not re-run).</summary>
static class ExportCommand
{
    public static Command Create(IAnsiConsole console) =>
        Exporting.Command(console, "export", "Write a self-contained HTML page of each notebook, with its outputs as saved.",
            ".html", HtmlExporter.Save);
}

/// <summary>What export and slides share: find notebooks, read each, write one file beside it or into --out.</summary>
static class Exporting
{
    public static Command Command(IAnsiConsole console, string name, string description, string extension,
        Action<Notebook, string, string> save)
    {
        var paths = new Argument<string[]>("notebooks") { Description = "Notebooks or folders.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--out", "-o") { Description = "Folder to write to (default: beside each notebook)." };
        var command = new Command(name, description) { paths, output };
        command.SetAction(parsed => Run(console, parsed.GetValue(paths)!, parsed.GetValue(output), extension, save));
        return command;
    }

    static int Run(IAnsiConsole console, string[] paths, string? outputFolder, string extension, Action<Notebook, string, string> save)
    {
        var (notebooks, problems) = NotebookFiles.Find(paths);
        foreach (var problem in problems) console.MarkupLine($"[red]error:[/] {Markup.Escape(problem)}");
        if (problems.Count > 0 || notebooks.Count == 0) return ExitCodes.UsageError;
        var status = ExitCodes.Success;
        foreach (var notebook in notebooks)
        {
            try
            {
                var folder = outputFolder ?? Path.GetDirectoryName(Path.GetFullPath(notebook))!;
                Directory.CreateDirectory(folder);
                var target = Path.Combine(folder, Path.GetFileNameWithoutExtension(notebook) + extension);
                save(NotebookReader.Load(notebook), notebook, target);
                console.MarkupLine($"[green]✓[/] wrote {Markup.Escape(target)}");
            }
            catch (Exception e) when (e is NotebookFormatException or IOException or UnauthorizedAccessException)
            {
                console.MarkupLine($"[red]✗ {Markup.Escape(e.Message)}[/]");
                status = ExitCodes.Failure;
            }
        }
        return status;
    }
}
