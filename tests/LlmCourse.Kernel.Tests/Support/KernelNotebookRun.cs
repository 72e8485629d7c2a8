using System.Diagnostics;
using Microsoft.DotNet.Interactive.Documents;

namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// A notebook executed cell by cell in the real kernel, as Jupyter or VS Code execute it: the kernel's
/// current directory is the notebook's folder (where both start it, so <c>#r "../artifacts/..."</c>
/// resolves as it does for a user), in quick mode, stopping at the first failing cell as nbconvert does.
/// </summary>
public sealed class KernelNotebookRun
{
    public required string Path { get; init; }
    public required IReadOnlyList<InteractiveDocumentElement> Cells { get; init; }
    public required IReadOnlyList<KernelCellRun> Runs { get; init; }
    public required TimeSpan Elapsed { get; init; }

    public static async Task<KernelNotebookRun> ExecuteAsync(string path, CancellationToken cancel, IReadOnlyDictionary<string, string?>? environment = null)
    {
        path = System.IO.Path.GetFullPath(path);
        var cells = NotebookCells.CodeCells(NotebookCells.Read(path));
        var previousDirectory = Environment.CurrentDirectory;
        var variables = new Dictionary<string, string?> { ["LLMCOURSE_QUICK"] = "1" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>()) variables[name] = value;
        var previous = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        var runs = new List<KernelCellRun>();
        var clock = Stopwatch.StartNew();
        try
        {
            Environment.CurrentDirectory = System.IO.Path.GetDirectoryName(path)!;
            foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
            using var kernel = new KernelSession();
            foreach (var cell in cells)
            {
                var run = await kernel.SubmitAsync(cell.Contents, cancel);
                runs.Add(run);
                if (run.Errors.Any()) break;
            }
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            foreach (var (name, value) in previous) Environment.SetEnvironmentVariable(name, value);
        }
        return new KernelNotebookRun { Path = path, Cells = cells, Runs = runs, Elapsed = clock.Elapsed };
    }

    /// <summary>Every error the kernel reported, with the cell it came from.</summary>
    public IEnumerable<string> Errors => Runs.SelectMany((run, i) => run.Errors.Select(e => $"cell {i + 1} (code cell): {e}"));

    /// <summary>Lines of stdout that start with ✗: a check that failed.</summary>
    public IEnumerable<string> FailedChecks => Runs.SelectMany((run, i) => run.Outputs()
        .Where(o => o.Type == OutputType.Stream)
        .SelectMany(o => (o.Text ?? "").Split('\n'))
        .Where(line => line.StartsWith('✗'))
        .Select(line => $"code cell {i + 1}: {line}"));
}
