using System.CommandLine;
using LlmCourse.Notebooks.Handouts;
using LlmCourse.Notebooks.Model;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary>
/// <c>llmcourse handout notebooks --out handouts</c>: the student copy of each notebook, with the lines
/// between <c>// ▼ answer</c> and <c>// ▲ answer</c> replaced by a comment and the outputs cleared
/// (<see cref="Handout.Strip"/>). It never writes over a notebook: the handouts go to their own folder.
/// </summary>
static class HandoutCommand
{
    public const string DefaultFolder = "handouts";

    public static Command Create(IAnsiConsole console)
    {
        var paths = new Argument<string[]>("notebooks") { Description = "Notebooks or folders.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o")
        {
            Description = $"Folder to write the student copies to (default: {DefaultFolder}).",
            DefaultValueFactory = _ => DefaultFolder,
        };
        var command = new Command("handout",
            "Write the student copy of each notebook: answers between // ▼ answer and // ▲ answer removed, outputs cleared.")
            { paths, output };
        command.SetAction(parsed => Run(console, parsed.GetValue(paths)!, parsed.GetValue(output)!));
        return command;
    }

    static int Run(IAnsiConsole console, string[] paths, string folder)
    {
        var (notebooks, problems) = NotebookFiles.Find(paths);
        foreach (var problem in problems) console.MarkupLine($"[red]error:[/] {Markup.Escape(problem)}");
        if (problems.Count > 0 || notebooks.Count == 0) return ExitCodes.UsageError;
        // A handout written beside its notebook would replace the notebook, answers and all.
        var clashes = notebooks.Where(n => NotebookFiles.SamePath(Path.GetDirectoryName(Path.GetFullPath(n))!, folder)).ToList();
        if (clashes.Count > 0)
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(folder)} holds the notebooks themselves " +
                               $"({Markup.Escape(string.Join(", ", clashes.Select(Path.GetFileName)))}): a handout would overwrite its notebook. " +
                               $"Choose another folder with --out (the default is {DefaultFolder}).");
            return ExitCodes.UsageError;
        }
        var status = ExitCodes.Success;
        foreach (var notebook in notebooks)
        {
            try
            {
                var target = Path.Combine(folder, Path.GetFileName(notebook));
                var answers = Handout.Save(notebook, target);
                console.MarkupLine($"[green]✓[/] wrote {Markup.Escape(target)} ({answers} answer{(answers == 1 ? "" : "s")} removed)");
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
