using LlmCourse.Alignment;

namespace LlmCourse.Tests.Alignment;

/// <summary>The most-common-answer baseline: answers taken from the training examples only, scored on the others.</summary>
public sealed class MostCommonAnswerTests
{
    static InstructionExample Example(string task, string split, string answer, int i) =>
        new($"{task}-{split}-{i}", task, split, 0, $"question {i} of {task}", answer);

    static InstructionExample[] Examples(string task, string split, params string[] answers) =>
        answers.Select((a, i) => Example(task, split, a, i)).ToArray();

    [Fact]
    public void EachTask_IsAnsweredWithItsMostCommonTrainingAnswer_NotTheTestSplits()
    {
        InstructionExample[] training = [.. Examples("count", "train", "1", "0", "1", "2"), .. Examples("yesno", "train", "no", "yes", "no")];
        // The test split's own majorities differ ("0" and "yes"): a baseline that peeked would score 3 of 5 and 2 of 3.
        InstructionExample[] test = [.. Examples("count", "test", "0", "1", "0", "0", "2"), .. Examples("yesno", "test", "yes", "no", "yes")];

        var answers = TaskEvaluation.MostCommonAnswers(training);
        Assert.Equal("1", answers["count"]);
        Assert.Equal("no", answers["yesno"]);

        var graded = TaskEvaluation.GradeMostCommonAnswer(training, test);
        Assert.Equal(test, graded.Select(g => g.Example));
        Assert.Equal(new[] { "1", "1", "1", "1", "1", "no", "no", "no" }, graded.Select(g => g.Reply));
        var accuracy = TaskEvaluation.Accuracy(graded).ToDictionary(a => a.Task);
        Assert.Equal((1, 5), (accuracy["count"].Correct, accuracy["count"].Total));
        Assert.Equal((1, 3), (accuracy["yesno"].Correct, accuracy["yesno"].Total));
        Assert.Equal(2.0 / 8, TaskEvaluation.Overall(graded), 12);
    }

    [Fact]
    public void ATie_GoesToTheAnswerMetFirst_AndATaskWithoutTrainingExamples_ScoresNothing()
    {
        var training = Examples("spell", "train", "m-o-o-n", "s-u-n", "s-u-n", "m-o-o-n");
        Assert.Equal("m-o-o-n", TaskEvaluation.MostCommonAnswers(training)["spell"]);

        var graded = TaskEvaluation.GradeMostCommonAnswer(training, [Example("add", "test", "5", 0), Example("spell", "test", "m-o-o-n", 1)]);
        Assert.Equal(new[] { false, true }, graded.Select(g => g.Correct));
        Assert.Equal("", graded[0].Reply);
    }
}
