using LlmCourse.Alignment;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Alignment;

/// <summary>Sampled exact-match accuracy: greedy sampling agrees with <see cref="TaskEvaluation.Grade"/>, sampling at temperature 1 does not always.</summary>
public sealed class SampledAccuracyTests
{
    static ChatModel Untrained()
    {
        var chars = new CharTokenizer("abcdefgh ");
        var gpt = new Gpt(new GptConfig(chars.VocabSize, BlockSize: 48, Layers: 1, Heads: 2, Embedding: 16), chars, new Generator(3));
        return ChatModel.FromPretrained(gpt, ['1', '2']);
    }

    [Fact]
    public void Greedy_EqualsTheGradedAccuracy_AndTemperatureOne_FindsFewerOfTheGreedyReplies()
    {
        var chat = Untrained();
        // Answers made to be right for the untrained model's greedy reply on two questions, wrong on the third.
        var greedyA = chat.Reply("abc", TaskEvaluation.MaxReplyTokens);
        var greedyB = chat.Reply("fed", TaskEvaluation.MaxReplyTokens);
        Assert.False(string.IsNullOrWhiteSpace(greedyA));
        InstructionExample[] examples =
        [
            new("a", "echo", InstructionTasks.Test, 0, "abc", greedyA),
            new("b", "echo", InstructionTasks.Test, 0, "fed", greedyB),
            new("c", "echo", InstructionTasks.Test, 0, "hhh", greedyA + "x"),
        ];

        Assert.Equal(2.0 / 3, TaskEvaluation.Overall(TaskEvaluation.Grade(chat, examples)), 12);
        Assert.Equal(2.0 / 3, TaskEvaluation.SampledAccuracy(chat, examples, samplesPerQuestion: 4, Sampling.Greedy), 12);

        // An untrained model's distribution is nearly flat over 17 tokens: 20 sampled tokens rarely repeat the greedy ones.
        var sampled = TaskEvaluation.SampledAccuracy(chat, examples, samplesPerQuestion: 8, new Sampling(Temperature: 1f), seed: 5);
        Assert.InRange(sampled, 0, 0.25);
        Assert.Equal(sampled, TaskEvaluation.SampledAccuracy(chat, examples, samplesPerQuestion: 8, new Sampling(Temperature: 1f), seed: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => TaskEvaluation.SampledAccuracy(chat, examples, 0, Sampling.Greedy));
    }
}
