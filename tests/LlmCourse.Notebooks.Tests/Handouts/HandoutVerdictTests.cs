using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Handouts;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Lessons;

namespace LlmCourse.Notebooks.Tests.Handouts;

/// <summary>The judge of the handout test, on executed notebooks made by hand: it must fail where a handout is wrong.</summary>
public sealed class HandoutVerdictTests
{
    static Notebook Executed(params string[] printed)
    {
        var notebook = Notebook.Create(Cell.Markdown("**1. One.**"));
        foreach (var text in printed)
        {
            var cell = Cell.Code("// code");
            if (text.Length > 0) cell.Outputs.Add(Output.Stream("stdout", text));
            notebook.Cells.Add(cell);
        }
        return notebook;
    }

    static readonly AnswerRegion First = new(1, 1, 3, "1. One."), Second = new(3, 1, 3, "2. Two.");

    [Fact]
    public void EachAnswerFollowedByAFailedCheck_IsRight()
    {
        var executed = Executed("", "✗ one: not answered yet\n", "", "✓ unrelated\n✗ two: expected 1, got NaN\n");

        Assert.Empty(HandoutVerdict.Problems("l.ipynb", executed, [], [First, Second]));
    }

    [Fact]
    public void AnAnswerWhoseChecksAllPass_IsNamedWithItsCellsAndExercise()
    {
        var executed = Executed("", "✓ one = 3\n", "", "✗ two: expected 1, got NaN\n");

        var problem = Assert.Single(HandoutVerdict.Problems("l.ipynb", executed, [], [First, Second]));

        Assert.StartsWith("l.ipynb: the answer in cell 2, lines 1–3 (exercise \"1. One.\") was removed, yet no check in cells 2–4 printed ✗", problem);
        Assert.Contains("cell 3: ✓ one = 3", problem);
    }

    [Fact]
    public void TheSummarysFailureLine_DoesNotCountForTheLastExercise()
    {
        var executed = Executed("", "✗ one: not answered yet\n", "", "✓ two = 2\n✗ 1 of 2 checks failed: scroll up\n");

        var problem = Assert.Single(HandoutVerdict.Problems("l.ipynb", executed, [], [First, Second]));

        Assert.Contains("exercise \"2. Two.\"", problem);
    }

    [Fact]
    public void TwoAnswersInOneCell_AreReportedByTheChecksAfterThatCell()
    {
        // Cell 2 holds both regions (a table, then a function that reads it); cell 3 checks both.
        AnswerRegion table = new(1, 1, 3, "1. One."), function = new(1, 6, 9, "1. One."), later = new(3, 1, 3, "2. Two.");
        var executed = Executed("", "✗ one: expected 0, got 1084\n", "", "✗ two: not answered yet\n");

        Assert.Empty(HandoutVerdict.Problems("l.ipynb", executed, [], [table, function, later]));
    }

    [Fact]
    public void TwoAnswersInOneCell_WithNoCheckBeforeTheNextExercise_AreBothNamed()
    {
        AnswerRegion table = new(1, 1, 3, "1. One."), function = new(1, 6, 9, "1. One."), later = new(3, 1, 3, "2. Two.");
        var executed = Executed("", "✓ one = 3\n", "", "✗ two: not answered yet\n");

        var problems = HandoutVerdict.Problems("l.ipynb", executed, [], [table, function, later]);

        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Contains("no check in cells 2–4 printed ✗", p));
    }

    [Fact]
    public void AFailingCell_IsAProblem_EvenWhenEveryCheckPrintsX()
    {
        var executed = Executed("", "✗ one: not answered yet\n", "", "✗ two\n");
        var failure = new CellFailure("l.ipynb", 2, 1, 5, FailureKind.Compile, "CS0103", "CS0103: The name 'y' does not exist", "var z = y;");

        var problem = Assert.Single(HandoutVerdict.Problems("l.ipynb", executed, [failure], [First, Second]));

        Assert.StartsWith("l.ipynb: cell 3 fails in the handout (after the answer in cell 2, lines 1–3 (exercise \"1. One.\")): Compile error CS0103", problem);
        Assert.Contains("`var z = y;`", problem);
    }

    [Fact]
    public void ACheckCellThatFails_IsReportedOnce_AsTheError()
    {
        var executed = Executed("", "", "", "✗ two\n");
        var failure = new CellFailure("l.ipynb", 2, 1, 5, FailureKind.Compile, "CS0103", "CS0103: The name 'y' does not exist", "Check.Close(1, y, 0, \"y\");");

        var problem = Assert.Single(HandoutVerdict.Problems("l.ipynb", executed, [failure], [First, Second]));

        Assert.Contains("cell 3 fails in the handout", problem);
    }
}
