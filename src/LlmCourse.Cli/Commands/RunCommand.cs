using System.CommandLine;
using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Export;
using LlmCourse.Notebooks.Model;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary>
/// <c>llmcourse run notebooks --out out</c>: executes notebooks headless, cell by cell, and writes
/// each executed notebook and its HTML page to the output folder (never over the sources).
/// </summary>
static class RunCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var paths = new Argument<string[]>("notebooks")
        {
            Description = "Notebooks (.ipynb) or folders of notebooks to run, in order.",
            Arity = ArgumentArity.OneOrMore,
        };
        var quick = new Option<bool>("--quick") { Description = "Tiny budgets (sets LLMCOURSE_QUICK=1): every notebook in minutes." };
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder for the executed notebooks and their HTML pages.",
            DefaultValueFactory = _ => "out",
        };
        var continueOnError = new Option<bool>("--continue-on-error") { Description = "Keep running the cells after one fails." };
        var cellTimeout = new Option<string?>("--cell-timeout")
        {
            Description = "Longest a cell may run before the run stops and names it: 90s, 20m, 6h, or 0 for no limit " +
                          $"(default {CellTimeoutException.Describe(RunOptions.DefaultCellTimeout(true))} with --quick, " +
                          $"{CellTimeoutException.Describe(RunOptions.DefaultCellTimeout(false))} without).",
        };
        var command = new Command("run", "Execute notebooks headless; write the executed .ipynb and .html to --out.")
        {
            paths, quick, output, continueOnError, cellTimeout,
        };
        command.SetAction((parsed, cancel) =>
        {
            var isQuick = parsed.GetValue(quick);
            if (!TryParseDuration(parsed.GetValue(cellTimeout), RunOptions.DefaultCellTimeout(isQuick), out var limit))
            {
                console.MarkupLine($"[red]error:[/] --cell-timeout {Markup.Escape(parsed.GetValue(cellTimeout) ?? "")}: expected a duration " +
                                   "such as 90s, 20m or 6h (a bare number is seconds), or 0 for no limit.");
                return Task.FromResult(ExitCodes.UsageError);
            }
            return RunAsync(console, parsed.GetValue(paths)!, isQuick, parsed.GetValue(output)!, parsed.GetValue(continueOnError), limit, cancel);
        });
        return command;
    }

    sealed record Outcome(string Notebook, int CellsRun, int CodeCells, TimeSpan Elapsed, CellFailure? Failure, string? Problem,
        CheckLines? Checks = null)
    {
        /// <summary>Every cell ran and no exercise check printed ✗: what an instructor's pre-lecture run needs.</summary>
        public bool Ok => Failure is null && Problem is null && Checks is not { Failed.Count: > 0 };
    }

    /// <summary>"90s", "20m", "6h", "45" (seconds); "0" is no limit (null); absent is the default.</summary>
    internal static bool TryParseDuration(string? text, TimeSpan fallback, out TimeSpan? duration)
    {
        duration = fallback;
        if (text is null) return true;
        text = text.Trim().ToLowerInvariant();
        var hasUnit = text.Length > 0 && char.IsLetter(text[^1]);
        var unit = hasUnit ? text[^1] : 's';
        var number = hasUnit ? text[..^1] : text;
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value < 0 || double.IsInfinity(value))
            return false;
        double? seconds = unit switch { 's' => value, 'm' => value * 60, 'h' => value * 3600, _ => null };
        if (seconds is null) return false;
        duration = seconds == 0 ? null : TimeSpan.FromSeconds(seconds.Value);
        return true;
    }

    static async Task<int> RunAsync(IAnsiConsole console, string[] paths, bool quick, string outputFolder, bool continueOnError,
        TimeSpan? cellTimeout, CancellationToken cancel)
    {
        var (notebooks, problems) = NotebookFiles.Find(paths);
        foreach (var problem in problems) console.MarkupLine($"[red]error:[/] {Markup.Escape(problem)}");
        if (problems.Count > 0 || notebooks.Count == 0) return ExitCodes.UsageError;
        if (notebooks.FirstOrDefault(n => NotebookFiles.SamePath(Path.GetDirectoryName(Path.GetFullPath(n))!, outputFolder)) is { } clash)
        {
            console.MarkupLine($"[red]error:[/] --out {Markup.Escape(outputFolder)} is the folder of {Markup.Escape(clash)}: " +
                               "the executed copy would overwrite the source notebook. Choose another folder (the default is out/).");
            return ExitCodes.UsageError;
        }
        try { Directory.CreateDirectory(outputFolder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            console.MarkupLine($"[red]error:[/] --out {Markup.Escape(outputFolder)} cannot be created ({Markup.Escape(e.Message)}): choose a writable folder.");
            return ExitCodes.Failure;
        }

        var outcomes = new List<Outcome>();
        foreach (var notebook in notebooks)
        {
            cancel.ThrowIfCancellationRequested();
            console.Write(new Rule($"[bold]{Markup.Escape(Path.GetFileName(notebook))}[/] [grey]({(quick ? "quick" : "full")})[/]").LeftJustified());
            outcomes.Add(await RunOneAsync(console, notebook, quick, continueOnError, cellTimeout, outputFolder, cancel).ConfigureAwait(false));
        }

        Summarise(console, outcomes);
        return outcomes.All(o => o.Ok) ? ExitCodes.Success : ExitCodes.Failure;
    }

    static async Task<Outcome> RunOneAsync(IAnsiConsole console, string notebook, bool quick, bool continueOnError,
        TimeSpan? cellTimeout, string outputFolder, CancellationToken cancel)
    {
        Notebook source;
        try
        {
            source = NotebookReader.Load(notebook);
            NotebookRunner.EnsureCSharp(source, notebook);
        }
        catch (NotebookFormatException e)
        {
            console.MarkupLine($"  [red]✗ {Markup.Escape(e.Message)}[/]");
            return new Outcome(notebook, 0, 0, TimeSpan.Zero, null, e.Message);
        }

        NotebookRun? run = null;
        async Task Execute(StatusContext? status)
        {
            var options = new RunOptions { Quick = quick, ContinueOnError = continueOnError, CellTimeout = cellTimeout, Observer = new RunProgress(console, status) };
            run = await NotebookRunner.RunAsync(source, notebook, options, cancel).ConfigureAwait(false);
        }
        if (console.Profile.Capabilities.Interactive)
            await console.Status().Spinner(Spinner.Known.Dots).StartAsync("starting", Execute).ConfigureAwait(false);
        else
            await Execute(null).ConfigureAwait(false);

        var name = Path.GetFileNameWithoutExtension(notebook);
        var executedPath = Path.Combine(outputFolder, name + ".ipynb");
        var htmlPath = Path.Combine(outputFolder, name + ".html");
        string? problem = null;
        try
        {
            // Both writers replace their file atomically: a failed write leaves the previous copy whole.
            NotebookWriter.Save(run!.Executed, executedPath);
            HtmlExporter.Save(run.Executed, notebook, htmlPath);
            console.MarkupLine($"  wrote {Markup.Escape(executedPath)} and {Markup.Escape(htmlPath)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"{notebook} ran, but its executed copy could not be written to {outputFolder} ({e.Message.TrimEnd('.')}): " +
                      "free some space there or choose another --out folder.";
            console.MarkupLine($"  [red]✗ {Markup.Escape(problem)}[/]");
        }
        return new Outcome(notebook, run!.Cells.Count, run.CodeCellCount, run.Elapsed, run.Failures.FirstOrDefault(), problem,
            CheckLines.Of(run.Executed));
    }

    static void Summarise(IAnsiConsole console, List<Outcome> outcomes)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Summary[/]")
            .AddColumn("Notebook").AddColumn(new TableColumn("Cells").RightAligned())
            .AddColumn(new TableColumn("Time").RightAligned()).AddColumn("Status").AddColumn("Checks");
        foreach (var o in outcomes)
        {
            var status = o.Problem is not null ? (o.CellsRun > 0 ? "[red]✗ not saved[/]" : "[red]✗ unreadable[/]")
                : o.Failure is { } f ? $"[red]✗ failed at cell {f.CellNumber}{(f.Line is { } l ? $", line {l}" : "")}[/]"
                : o.Checks is { Failed.Count: > 0 } c ? $"[red]✗ {c.Failed.Count} check{(c.Failed.Count == 1 ? "" : "s")} failed[/]"
                : "[green]✓ ok[/]";
            var checks = o.Checks is null ? "" : $"{o.Checks.Passed.Count} ✓" + (o.Checks.Failed.Count > 0 ? $", {o.Checks.Failed.Count} ✗" : "");
            table.AddRow(Markup.Escape(Path.GetFileName(o.Notebook)), $"{o.CellsRun}/{o.CodeCells}",
                $"{o.Elapsed.TotalSeconds:0.0} s", status, checks);
        }
        console.Write(table);
        foreach (var o in outcomes.Where(o => !o.Ok))
        {
            if (o.Failure is not null || o.Problem is not null)
                console.MarkupLine($"[red]{Markup.Escape(o.Failure?.ToString() ?? o.Problem!)}[/]");
            foreach (var line in o.Checks?.Failed ?? [])
                console.MarkupLine($"[red]{Markup.Escape($"{o.Notebook}, {line}")}[/]");
        }
    }
}
