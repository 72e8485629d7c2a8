using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Execution;

/// <summary>One executed code cell: how long it took and whether it failed.</summary>
public sealed record CellRun(int CellIndex, int ExecutionCount, TimeSpan Elapsed, CellFailure? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>The result of running a notebook: the executed copy with its outputs, and what happened.</summary>
public sealed class NotebookRun(string path, Notebook executed, IReadOnlyList<CellRun> cells, TimeSpan elapsed, bool quick)
{
    public string Path { get; } = path;
    public Notebook Executed { get; } = executed;
    public IReadOnlyList<CellRun> Cells { get; } = cells;
    public TimeSpan Elapsed { get; } = elapsed;
    public bool Quick { get; } = quick;

    public IReadOnlyList<CellFailure> Failures => Cells.Where(c => c.Failure is not null).Select(c => c.Failure!).ToList();

    public bool Succeeded => Failures.Count == 0;

    /// <summary>Code cells in the notebook, run or not.</summary>
    public int CodeCellCount => Executed.CodeCells.Count();
}
