using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// The exercise checks an executed notebook printed: <c>LlmCourse.Check</c> writes each verdict on a
/// line of its own that starts with ✓ or ✗. A cell can run without error and still print ✗ (a wrong
/// answer teaches instead of stopping the notebook), so whoever judges a run counts these lines too.
/// </summary>
public sealed record CheckLines(IReadOnlyList<CheckLine> Passed, IReadOnlyList<CheckLine> Failed)
{
    public const char PassMark = '✓';
    public const char FailMark = '✗';

    /// <summary>The ✓ and ✗ lines of every stream output, in cell order.</summary>
    public static CheckLines Of(Notebook executed)
    {
        var passed = new List<CheckLine>();
        var failed = new List<CheckLine>();
        for (var index = 0; index < executed.Cells.Count; index++)
            foreach (var output in executed.Cells[index].Outputs.Where(o => o.Kind == OutputKind.Stream))
                foreach (var raw in (output.Text ?? "").Split('\n'))
                {
                    var line = raw.TrimEnd('\r');
                    if (line.StartsWith(PassMark)) passed.Add(new CheckLine(index, line));
                    else if (line.StartsWith(FailMark)) failed.Add(new CheckLine(index, line));
                }
        return new CheckLines(passed, failed);
    }
}

/// <summary>One ✓ or ✗ line and the cell (0-based) that printed it.</summary>
public sealed record CheckLine(int CellIndex, string Text)
{
    public override string ToString() => $"cell {CellIndex + 1}: {Text}";
}
