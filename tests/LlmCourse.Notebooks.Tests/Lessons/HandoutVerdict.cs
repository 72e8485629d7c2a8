using System.Text.RegularExpressions;
using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Handouts;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// Judges an executed handout: no cell may end in an error, and every answer region must be followed, in
/// its own cell or a later one up to the next cell with a region (or the end), by a ✗ check line: the unanswered
/// exercise is reported, not silently passed. <c>Check.Summary()</c>'s "✗ 3 of 9 checks failed" does not
/// count, since it would report an earlier exercise's ✗ under a later one.
/// </summary>
public static partial class HandoutVerdict
{
    /// <summary>Each problem on a line of its own, naming the notebook, the cell and the exercise; empty when the handout is right.</summary>
    public static List<string> Problems(string notebook, Notebook executed, IReadOnlyList<CellFailure> failures, IReadOnlyList<AnswerRegion> answers)
    {
        var problems = new List<string>();
        foreach (var failure in failures)
            problems.Add($"{notebook}: cell {failure.CellNumber} fails in the handout ({ExerciseNear(answers, failure.CellIndex)}): " +
                         $"{failure.Kind} error {failure.Message}{(failure.SourceLine is { } line ? $" at `{line.Trim()}`" : "")}. " +
                         "Declare what the answer fills above the markers with a stub, and call the student's code through Check.Answer.");
        for (var index = 0; index < executed.Cells.Count; index++)
            foreach (var output in executed.Cells[index].Outputs.Where(o => o.Kind == OutputKind.Error))
                if (failures.All(f => f.CellIndex != index))
                    problems.Add($"{notebook}: cell {index + 1} shows an error output in the handout: {output.ErrorName}: {output.ErrorValue}");

        var failed = CheckLines.Of(executed).Failed.Where(line => !SummaryLine().IsMatch(line.Text)).ToList();
        for (var i = 0; i < answers.Count; i++)
        {
            var answer = answers[i];
            // Regions that share a cell share its stretch: the verdict sees the cell a line was printed in, not
            // where in the cell, so a check after the cell's last region reports all of them.
            var next = answers.Skip(i + 1).FirstOrDefault(a => a.CellIndex > answer.CellIndex);
            var until = next?.CellIndex ?? executed.Cells.Count - 1;
            var reported = failed.Where(line => line.CellIndex >= answer.CellIndex && line.CellIndex <= until).ToList();
            // A cell that failed in this stretch is reported above, with its error: that is the problem to fix first.
            if (reported.Count > 0 || failures.Any(f => f.CellIndex >= answer.CellIndex && f.CellIndex <= until)) continue;
            var printed = CheckLines.Of(executed).Passed.Where(line => line.CellIndex >= answer.CellIndex && line.CellIndex <= until).ToList();
            problems.Add($"{notebook}: the answer in {answer} was removed, yet no check in cells {answer.CellNumber}–{until + 1} printed ✗" +
                         (printed.Count > 0 ? $"; they printed only ✓:{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", printed)}" : " (nor anything else)") +
                         $"{Environment.NewLine}    A check must fail on a missing answer: compare with a reference it recomputes (a stub such as double.NaN or null never matches).");
        }
        return problems;
    }

    static string ExerciseNear(IReadOnlyList<AnswerRegion> answers, int cellIndex)
    {
        var before = answers.LastOrDefault(a => a.CellIndex <= cellIndex);
        return before is null ? "before any answer" : $"after the answer in {before}";
    }

    [GeneratedRegex(@"^✗ \d+ of \d+ checks? failed")]
    private static partial Regex SummaryLine();
}
