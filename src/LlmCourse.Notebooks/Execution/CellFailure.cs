namespace LlmCourse.Notebooks.Execution;

/// <summary>Why a cell failed to compile or run.</summary>
public enum FailureKind
{
    /// <summary>A directive the runner cannot honour: <c>#r "nuget:..."</c>, a magic command, another kernel's cell.</summary>
    Directive,

    /// <summary>Roslyn reported errors; nothing in the cell ran.</summary>
    Compile,

    /// <summary>The cell threw.</summary>
    Runtime,
}

/// <summary>
/// A failed cell: which notebook, which cell (1-based among all cells, as a reader counts them),
/// which line of that cell, and what went wrong.
/// </summary>
public sealed record CellFailure(
    string NotebookPath,
    int CellIndex,
    int? Line,
    int? Column,
    FailureKind Kind,
    string ErrorName,
    string Message,
    string? SourceLine)
{
    /// <summary>1-based cell number.</summary>
    public int CellNumber => CellIndex + 1;

    /// <summary>"notebooks/00-setup.ipynb, cell 7, line 3: CS0103: The name 'x' does not exist ...".</summary>
    public override string ToString()
    {
        var where = $"{NotebookPath}, cell {CellNumber}" + (Line is { } line ? $", line {line}" : "");
        var text = $"{where}: {(Kind == FailureKind.Runtime ? ErrorName + ": " : "")}{Message}";
        return SourceLine is null ? text : $"{text}{Environment.NewLine}    > {SourceLine.Trim()}";
    }
}
