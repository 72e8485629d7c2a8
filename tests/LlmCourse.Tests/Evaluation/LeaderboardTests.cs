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
        Assert.Equal("Leaderboard", table[0]);
        Assert.Contains("bits/char", table[1]);
        Assert.StartsWith("char 1-gram (add-1)", table[3]);
        Assert.StartsWith("char 2-gram (add-1)", table[4]);
        Assert.Contains("∞", table[5]);
        Assert.Contains(Math.Round(bigram.BitsPerCharacter, 3).ToString(System.Globalization.CultureInfo.InvariantCulture), table[4]);
        Assert.True(bigram.BitsPerCharacter < unigram.BitsPerCharacter);
        Assert.Equal(bigram, board.Best);
        Assert.Contains("<table", board.ToHtml());
        Assert.Contains("font-weight:700", board.ToHtml());   // the best bits/char in bold

        // Adding a model again replaces its row.
        board.Add(unigram with { Nats = 1 });
        Assert.Equal(3, board.Results.Count);
    }

    [Fact]
    public void Shared_SavesAndLoadsTheResults_InfinityIncluded()
    {
        var directory = Directory.CreateTempSubdirectory("llmcourse-results-").FullName;
        try
        {
            Assert.Empty(Leaderboard.Shared("toy", directory: directory).Results);
            var board = new Leaderboard()
                .Add(new EvaluationResult("bigram", 10, 10, 12.5), "lesson 01")
                .Add(new EvaluationResult("MLE 4-gram", 10, 10, double.PositiveInfinity));
            board.SaveShared("toy", directory);

            var loaded = Leaderboard.Shared("toy", directory: directory);
            Assert.Equal(board.Results, loaded.Results);
            Assert.Equal(board.ToString(), loaded.ToString());
        }
        finally { Directory.Delete(directory, recursive: true); }
    }
}
