using System.Diagnostics;
using LlmCourse.Notebooks.Model;
using Microsoft.CodeAnalysis;

namespace LlmCourse.Notebooks.Execution;

/// <summary>Turns compile errors and exceptions into a <see cref="CellFailure"/> and an nbformat error output.</summary>
static class FailureReport
{
    const int MaxCompileErrors = 5;

    public static (CellFailure Failure, Output Output) Directive(string notebookPath, int cellIndex, int line, string message, string sourceLine)
    {
        var failure = new CellFailure(notebookPath, cellIndex, line, 1, FailureKind.Directive, "Error", message, sourceLine);
        return (failure, Output.Failure("Error", $"(line {line}): {message}", [$"(line {line}): {message}"]));
    }

    public static (CellFailure Failure, Output Output) Compile(string notebookPath, int cellIndex, string code, IReadOnlyList<Diagnostic> errors)
    {
        var lines = code.Split('\n');
        var described = errors.Take(MaxCompileErrors).Select(d =>
        {
            var position = d.Location.GetLineSpan().StartLinePosition;
            return (Line: position.Line + 1, Column: position.Character + 1, Text: $"{d.Id}: {d.GetMessage()}");
        }).ToList();
        var first = described[0];
        var more = errors.Count > 1 ? $" (and {errors.Count - 1} more error{(errors.Count > 2 ? "s" : "")})" : "";
        var sourceLine = first.Line - 1 < lines.Length ? lines[first.Line - 1].TrimEnd('\r') : null;
        var failure = new CellFailure(notebookPath, cellIndex, first.Line, first.Column, FailureKind.Compile, "Error",
            first.Text + more, sourceLine);
        var traceback = described.Select(d => $"({d.Line},{d.Column}): error {d.Text}").ToList();
        return (failure, Output.Failure("Error", string.Join("\n", traceback), traceback));
    }

    public static (CellFailure Failure, Output Output) Runtime(string notebookPath, int cellIndex, string code, Exception exception, ScriptSession session)
    {
        var frames = new StackTrace(exception, fNeedFileInfo: true).GetFrames()
            .Select(f => (Frame: f, Cell: session.CellOf(f.GetFileName()), Line: f.GetFileLineNumber()))
            .ToList();
        // Frames run innermost first: the first one in this cell is the line that led to the throw,
        // the first one in any cell is where the notebook's own code was when it happened.
        var here = frames.FirstOrDefault(f => f.Cell == cellIndex && f.Line > 0);
        var deepest = frames.FirstOrDefault(f => f.Cell is not null && f.Line > 0);
        // The runtime wraps what the load context threw in its own "Could not load file or assembly";
        // the message that says why and what to do is the inner one.
        var missing = Chain(exception).OfType<MissingNotebookDependencyException>().FirstOrDefault();
        var message = missing?.Message ?? exception.Message;
        if (deepest.Cell is { } otherCell && otherCell != cellIndex)
            message += $" (thrown in code from cell {otherCell + 1}, line {deepest.Line})";
        var lines = code.Split('\n');
        int? line = here.Line > 0 ? here.Line : null;
        var sourceLine = line is { } l && l - 1 < lines.Length ? lines[l - 1].TrimEnd('\r') : null;
        var name = exception.GetType().FullName ?? exception.GetType().Name;
        var failure = new CellFailure(notebookPath, cellIndex, line, null, FailureKind.Runtime, name, message, sourceLine);

        var traceback = new List<string> { $"{name}: {exception.Message}" };
        traceback.AddRange(frames.Where(f => !IsPlumbing(f.Frame)).Select(f => "   at " + Describe(f.Frame, f.Cell, f.Line)));
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
            traceback.Add($" ---> {inner.GetType().FullName}: {inner.Message}");
        return (failure, Output.Failure(name, missing?.Message ?? exception.Message, traceback));
    }

    static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException) yield return e;
    }

    static string Describe(StackFrame frame, int? cell, int line)
    {
        var method = frame.GetMethod();
        var name = method is null ? "?" : method.Name == "MoveNext" && method.DeclaringType?.Name.Contains("Initialize") == true
            ? "<cell>"
            : method.DeclaringType?.Name.StartsWith("Submission#", StringComparison.Ordinal) == true
                ? method.Name
                : $"{method.DeclaringType?.FullName}.{method.Name}";
        return cell is { } c ? $"{name} in cell {c + 1}, line {line}" : name;
    }

    /// <summary>Frames of the async machinery and of Roslyn's scripting host, which say nothing to a student.</summary>
    static bool IsPlumbing(StackFrame frame)
    {
        var ns = frame.GetMethod()?.DeclaringType?.Namespace ?? "";
        return ns.StartsWith("System.Runtime.CompilerServices", StringComparison.Ordinal)
            || ns.StartsWith("System.Runtime.ExceptionServices", StringComparison.Ordinal)
            || ns.StartsWith("System.Threading.Tasks", StringComparison.Ordinal)
            || ns.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal);
    }
}
