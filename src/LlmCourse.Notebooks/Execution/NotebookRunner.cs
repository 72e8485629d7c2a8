using System.Diagnostics;
using System.Text.Json.Nodes;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// Runs a notebook's code cells in order, headless, the way the .NET Interactive C# kernel would, and
/// returns an executed copy with the outputs filled in (the notebook given is not changed).
/// <para>Runs in one process take turns: a run sets the current directory to the notebook's folder (as
/// the kernel does) and, in quick mode, <c>LLMCOURSE_QUICK=1</c>, both of which are process-wide.</para>
/// </summary>
public static class NotebookRunner
{
    /// <summary>The variable the course library reads (<c>LlmCourse.Course.QuickVariable</c>). Declared again here
    /// because the runner must not load the course library that notebooks #r; a test keeps the two equal.</summary>
    public const string QuickVariable = "LLMCOURSE_QUICK";

    static readonly SemaphoreSlim oneAtATime = new(1, 1);

    public static async Task<NotebookRun> RunAsync(string path, RunOptions? options = null, CancellationToken cancel = default) =>
        await RunAsync(NotebookReader.Load(path), path, options, cancel).ConfigureAwait(false);

    public static async Task<NotebookRun> RunAsync(Notebook notebook, string path, RunOptions? options = null, CancellationToken cancel = default)
    {
        EnsureCSharp(notebook, path);
        options ??= new RunOptions();
        // Resolved now: the run changes the current directory, and messages keep the path as given.
        var fullPath = Path.GetFullPath(path);
        await oneAtATime.WaitAsync(cancel).ConfigureAwait(false);
        var previousDirectory = Environment.CurrentDirectory;
        var previousQuick = Environment.GetEnvironmentVariable(QuickVariable);
        try
        {
            Environment.CurrentDirectory = Path.GetDirectoryName(fullPath)!;
            if (options.Quick) Environment.SetEnvironmentVariable(QuickVariable, "1");
            ConsoleCapture.Install();
            return await RunCellsAsync(notebook.Clone(), path, fullPath, options, cancel).ConfigureAwait(false);
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            Environment.SetEnvironmentVariable(QuickVariable, previousQuick);
            oneAtATime.Release();
        }
    }

    /// <summary>
    /// Refuses a notebook whose kernelspec names another kernel (a Python notebook, an F# one): its
    /// cells would otherwise be compiled as C# and fail with errors that hide the real cause. A notebook
    /// without a kernelspec is taken as C#, as the kernel's own cells default to it.
    /// </summary>
    public static void EnsureCSharp(Notebook notebook, string path)
    {
        if (notebook.Metadata["kernelspec"] is not System.Text.Json.Nodes.JsonObject spec) return;
        string? Field(string name) => spec[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue(out string? text) ? text : null;
        var name = Field("name");
        var language = Field("language");
        if (name == DotNetKernel.KernelSpecName || (name is null && language is "C#" or "csharp" or "c#")) return;
        throw new NotebookFormatException(path, null,
            $"its kernel is '{Field("display_name") ?? name ?? "?"}' (kernelspec name '{name ?? "?"}', language '{language ?? "?"}'); " +
            $"llmcourse runs .NET C# notebooks only (kernelspec '{DotNetKernel.KernelSpecName}'). Run it in Jupyter with its own " +
            "kernel, or, if it really is C#, set its kernel to .NET (C#) in VS Code or Jupyter and save it.");
    }

    static async Task<NotebookRun> RunCellsAsync(Notebook notebook, string path, string fullPath, RunOptions options, CancellationToken cancel)
    {
        var observer = options.Observer;
        var total = Stopwatch.StartNew();
        var runs = new List<CellRun>();
        var codeCells = notebook.Cells.Select((cell, index) => (cell, index)).Where(c => c.cell.Kind == CellKind.Code).ToList();
        foreach (var (cell, _) in codeCells)
        {
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
        }

        using var session = new ScriptSession(fullPath);
        var executionCount = 0;
        foreach (var (cell, index) in codeCells)
        {
            cancel.ThrowIfCancellationRequested();
            executionCount++;
            cell.ExecutionCount = executionCount;
            observer?.CellStarted(index, executionCount, codeCells.Count, FirstLine(cell.Source));
            var clock = Stopwatch.StartNew();
            var execution = new CellExecution(cell, index,
                observer is null ? null : (c, bundle) => observer.DisplayChanged(c.CellIndex, bundle[MimeBundle.PlainText] ?? ""));
            var failure = await RunCellAsync(session, cell, index, executionCount, execution, path, options.CellTimeout, cancel)
                .ConfigureAwait(false);
            var run = new CellRun(index, executionCount, clock.Elapsed, failure);
            runs.Add(run);
            observer?.CellFinished(run);
            // A cell given up on may still be running: the cells below would race it, so the run stops.
            if (failure is not null && (!options.ContinueOnError || failure.ErrorName == typeof(CellTimeoutException).FullName)) break;
        }

        // Added beside what the lesson declares there (its "checks" count), not over it.
        var record = notebook.Metadata["llmcourse"] as JsonObject ?? [];
        record["mode"] = options.Quick ? "quick" : "full";
        record["succeeded"] = runs.All(r => r.Succeeded);
        record["seconds"] = Math.Round(total.Elapsed.TotalSeconds, 1);
        notebook.Metadata["llmcourse"] = record;
        return new NotebookRun(path, notebook, runs, total.Elapsed, options.Quick);
    }

    static async Task<CellFailure?> RunCellAsync(ScriptSession session, Cell cell, int index, int executionCount,
        CellExecution execution, string path, TimeSpan? timeout, CancellationToken cancel)
    {
        if (cell.KernelName is not ("csharp" or "C#" or "c#"))
        {
            var (failure, output) = FailureReport.Directive(path, index, 1,
                $"this cell runs in the '{cell.KernelName}' kernel; the headless runner runs C# cells only.", FirstLine(cell.Source));
            cell.Outputs.Add(output);
            return failure;
        }

        var (code, problem) = CellDirectives.Prepare(cell.Source);
        if (problem is { } p)
        {
            var (failure, output) = FailureReport.Directive(path, index, p.Line, p.Message, p.SourceLine);
            cell.Outputs.Add(output);
            return failure;
        }

        CellExecution.Current = execution;
        try
        {
            var outcome = await session.SubmitAsync(code, index, cancel, timeout).ConfigureAwait(false);
            if (outcome.Errors.Count > 0)
            {
                var (failure, output) = FailureReport.Compile(path, index, code, outcome.Errors);
                execution.Add(output);
                return failure;
            }
            if (outcome.Exception is { } exception)
            {
                var (failure, output) = FailureReport.Runtime(path, index, code, exception, session);
                execution.Add(output);
                return failure;
            }
            if (outcome.HasValue)
                execution.Add(Output.Result(CellExecution.Format(outcome.Value, []), executionCount));
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A formatter that throws, or a failure inside Roslyn itself: still the cell's failure.
            var (failure, output) = FailureReport.Runtime(path, index, code, e, session);
            execution.Add(output);
            return failure;
        }
        finally
        {
            CellExecution.Current = null;
        }
    }

    static string FirstLine(string source) =>
        source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal)) ?? "";
}
