using System.Diagnostics;
using LlmCourse.Notebooks.Execution;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary>
/// Cell-by-cell progress of a run. Every finished cell gets a line; while a cell runs, a terminal
/// shows a spinner with the cell and its latest display (a training chart's progress line), and a
/// log (CI, a pipe) gets that display line at most every 15 seconds.
/// </summary>
sealed class RunProgress(IAnsiConsole console, StatusContext? status) : IRunObserver
{
    static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(15);
    readonly Stopwatch sinceLastLog = Stopwatch.StartNew();
    string current = "";

    public void CellStarted(int cellIndex, int codeCellNumber, int codeCellCount, string firstLine)
    {
        current = $"cell {cellIndex + 1} ({codeCellNumber}/{codeCellCount})";
        status?.Status($"{current}: {Markup.Escape(Shorten(firstLine, 60))}");
        sinceLastLog.Restart();
    }

    public void CellFinished(CellRun cell)
    {
        var seconds = $"{cell.Elapsed.TotalSeconds,6:0.0} s";
        if (cell.Failure is { } failure)
            console.MarkupLine($"  [red]✗[/] {current,-16} {seconds}  [red]{Markup.Escape(Shorten(failure.ToString().Split('\n')[0], 160))}[/]");
        else
            console.MarkupLine($"  [green]✓[/] {current,-16} {seconds}");
    }

    public void DisplayChanged(int cellIndex, string plainText)
    {
        var line = Shorten(plainText.Split('\n')[0], 140);
        if (status is not null)
        {
            status.Status($"{current}: {Markup.Escape(line)}");
            return;
        }
        if (sinceLastLog.Elapsed < LogInterval) return;
        sinceLastLog.Restart();
        console.MarkupLine($"    [grey]{Markup.Escape(line)}[/]");
    }

    static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
