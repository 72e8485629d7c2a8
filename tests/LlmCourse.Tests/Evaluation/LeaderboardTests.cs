using LlmCourse.Evaluation;
using LlmCourse.Models;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Evaluation;

public sealed class LeaderboardTests
{
    [Fact]
    public void Table_ListsModelsInOrder_WithTheirScores()
    {
        const string train = "abcabcabcabd";
        var tokenizer = new CharTokenizer("abcd");
        var board = new Leaderboard();
        var unigram = board.Add(NGramLanguageModel.Train(tokenizer, train, 1, Smoothing.Laplace), "abcabd");
        var bigram = board.Add(NGramLanguageModel.Train(tokenizer, train, 2, Smoothing.Laplace), "abcabd");
        board.Add(new EvaluationResult("broken", 5, 5, double.PositiveInfinity), "no smoothing");

        var table = board.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("bits/char", table[0]);
        Assert.StartsWith("char 1-gram (add-1)", table[2]);
        Assert.StartsWith("char 2-gram (add-1)", table[3]);
        Assert.Contains("∞", table[4]);
        Assert.Contains(bigram.BitsPerCharacter.ToString("F3", System.Globalization.CultureInfo.InvariantCulture), table[3]);
        Assert.True(bigram.BitsPerCharacter < unigram.BitsPerCharacter);
        Assert.Equal(bigram, board.Best);
        Assert.Contains("<table", board.ToHtml());

        // Adding a model again replaces its row.
        board.Add(unigram with { Nats = 1 });
        Assert.Equal(3, board.Results.Count);
    }
}
