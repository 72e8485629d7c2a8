namespace LlmCourse.Notebooks.Model;

/// <summary>A notebook file that is not valid nbformat 4; the message names the file, the cell and the field.</summary>
public sealed class NotebookFormatException(string path, int? cellIndex, string problem, Exception? inner = null)
    : FormatException(Describe(path, cellIndex, problem), inner)
{
    public string Path { get; } = path;

    /// <summary>0-based index of the offending cell, or null when the problem is outside the cells.</summary>
    public int? CellIndex { get; } = cellIndex;

    public string Problem { get; } = problem;

    static string Describe(string path, int? cellIndex, string problem) =>
        cellIndex is { } index ? $"{path}: cell {index + 1}: {problem}" : $"{path}: {problem}";
}
