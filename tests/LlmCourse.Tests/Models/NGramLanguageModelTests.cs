using LlmCourse.Evaluation;
using LlmCourse.Models;
using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Models;

public sealed class NGramLanguageModelTests
{
    static readonly Smoothing[] AllSmoothings =
        [Smoothing.None, Smoothing.Laplace, Smoothing.AddK(0.01), Smoothing.KneserNey(), Smoothing.KneserNey(0.3)];

    const double Tolerance = 1e-9;   // sums of at most a few thousand doubles

    static void AssertSumsToOne(NGramLanguageModel model, int[] history)
    {
        var p = model.Distribution(history);
        var sum = p.Sum();
        Assert.True(Math.Abs(sum - 1) < Tolerance,
            $"{model.Name}: p(· | [{string.Join(",", history)}]) sums to {sum:R}, off by {Math.Abs(sum - 1):E2} (tolerance {Tolerance:E0})");
        Assert.All(p, x => Assert.True(x >= 0));
    }

    [Fact]
    public void EveryContext_EverySmoothing_CharAndWord_SumsToOne()
    {
        var text = TinyPlays.Generate(6_000, seed: 7);
        ITokenizer[] tokenizers = [CharTokenizer.FromText(text), WordTokenizer.FromText(text, minCount: 2)];
        var random = new Random(1);
        foreach (var tokenizer in tokenizers)
        foreach (var smoothing in AllSmoothings)
        foreach (var order in new[] { 1, 2, 3, 4 })
        {
            var model = NGramLanguageModel.Train(tokenizer, text, order, smoothing);
            for (var length = 0; length < order; length++)
                foreach (var context in model.SeenContexts(length))
                    AssertSumsToOne(model, context);
            // Contexts never seen in training back off and still get a distribution.
            for (var trial = 0; trial < 20; trial++)
                AssertSumsToOne(model, Enumerable.Range(0, order - 1).Select(_ => random.Next(tokenizer.VocabSize)).ToArray());
        }
    }

    [Fact]
    public void RandomCorpora_SumToOne_AndProbabilityAgreesWithDistribution()
    {
        var random = new Random(42);
        for (var trial = 0; trial < 40; trial++)
        {
            var alphabet = "abcdefg"[..(2 + random.Next(6))];
            var text = new string(Enumerable.Range(0, 1 + random.Next(60)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var tokenizer = new CharTokenizer("abcdefg");   // some letters never occur in training
            var model = NGramLanguageModel.Train(tokenizer, text, 1 + random.Next(5), AllSmoothings[trial % AllSmoothings.Length]);
            for (var length = 0; length < model.Order; length++)
                foreach (var context in model.SeenContexts(length))
                {
                    AssertSumsToOne(model, context);
                    var p = model.Distribution(context);
                    for (var w = 0; w < p.Length; w++)
                        Assert.Equal(p[w], model.Probability(context, w), 12);
                }
        }
    }

    /// <summary>
    /// Interpolated Kneser–Ney worked by hand. Text "abacab" (V = 3: a, b, c), bigram model, D = 0.5.
    /// <code>
    /// Bigram counts:          ab = 2, ba = 1, ac = 1, ca = 1
    /// Contexts:               a → {b: 2, c: 1}  c(a) = 3, N₁₊(a •) = 2
    ///                         b → {a: 1}        c(b) = 1, N₁₊(b •) = 1
    ///                         c → {a: 1}        c(c) = 1, N₁₊(c •) = 1
    /// Continuation counts:    N₁₊(• a) = 2 (after b and c), N₁₊(• b) = 1 (after a), N₁₊(• c) = 1 (after a)
    ///                         their total is 4 (the number of bigram types); 3 tokens have one
    /// Unigram:  P(w) = max(N₁₊(• w) − D, 0) / 4 + D · 3/4 · 1/3 = (N₁₊(• w) − 0.5) / 4 + 0.125
    ///           P(a) = 1.5/4 + 0.125 = 0.5     P(b) = 0.5/4 + 0.125 = 0.25     P(c) = 0.25
    /// Bigram:   P(w | a) = max(c(a w) − 0.5, 0) / 3 + 0.5 · 2/3 · P(w)
    ///           P(a | a) = 0 + 1/3 · 0.5 = 1/6
    ///           P(b | a) = 1.5/3 + 1/3 · 0.25 = 7/12
    ///           P(c | a) = 0.5/3 + 1/3 · 0.25 = 3/12            (1/6 + 7/12 + 3/12 = 1)
    ///           P(w | b) = max(c(b w) − 0.5, 0) / 1 + 0.5 · 1/1 · P(w)
    ///           P(a | b) = 0.5 + 0.5 · 0.5 = 0.75   P(b | b) = 0.5 · 0.25 = 0.125   P(c | b) = 0.125
    ///           P(· | c) is the same as P(· | b): one follower, a, seen once.
    /// Estimated discounts D = n₁/(n₁ + 2n₂): bigrams {2, 1, 1, 1} give 3/(3 + 2) = 0.6;
    /// continuation counts {2, 1, 1} give 2/(2 + 2) = 0.5.
    /// </code>
    /// </summary>
    [Fact]
    public void KneserNey_MatchesTheHandWorkedExample()
    {
        var tokenizer = new CharTokenizer("abc");
        var model = NGramLanguageModel.Train(tokenizer, "abacab", 2, Smoothing.KneserNey(0.5));
        int a = 0, b = 1, c = 2;

        Assert.Equal(0.5, model.Probability([], a), 12);
        Assert.Equal(0.25, model.Probability([], b), 12);
        Assert.Equal(0.25, model.Probability([], c), 12);
        Assert.Equal(1.0 / 6, model.Probability([a], a), 12);
        Assert.Equal(7.0 / 12, model.Probability([a], b), 12);
        Assert.Equal(3.0 / 12, model.Probability([a], c), 12);
        foreach (var previous in new[] { b, c })
        {
            Assert.Equal(0.75, model.Probability([previous], a), 12);
            Assert.Equal(0.125, model.Probability([previous], b), 12);
            Assert.Equal(0.125, model.Probability([previous], c), 12);
        }

        var estimated = NGramLanguageModel.Train(tokenizer, "abacab", 2, Smoothing.KneserNey());
        Assert.Equal(0.6, estimated.Discount(2), 12);
        Assert.Equal(0.5, estimated.Discount(1), 12);
    }

    [Fact]
    public void MaximumLikelihood_AndAddK_AreRatiosOfCounts()
    {
        const string text = "the cat sat on the mat the end";
        var tokenizer = CharTokenizer.FromText(text);
        var tokens = tokenizer.Encode(text);
        // Count bigrams independently of the model.
        var pairs = tokens.Zip(tokens.Skip(1)).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        var v = tokenizer.VocabSize;
        var mle = NGramLanguageModel.Train(tokenizer, text, 2, Smoothing.None);
        var add = NGramLanguageModel.Train(tokenizer, text, 2, Smoothing.AddK(0.5));
        var t = tokenizer.IdOf('t');
        var following = tokens.Zip(tokens.Skip(1)).Count(p => p.First == t);
        for (var w = 0; w < v; w++)
        {
            var count = pairs.GetValueOrDefault((t, w));
            Assert.Equal(count, mle.Count(t, w));
            Assert.Equal((double)count / following, mle.Probability([t], w), 12);
            Assert.Equal((count + 0.5) / (following + 0.5 * v), add.Probability([t], w), 12);
        }
        Assert.Equal(tokens.Count(x => x == t), mle.Count(t));
    }

    [Fact]
    public void UnseenContext_BacksOffToTheLongestSeenOne()
    {
        var tokenizer = new CharTokenizer("abc");
        foreach (var smoothing in AllSmoothings)
        {
            var model = NGramLanguageModel.Train(tokenizer, "abacab", 3, smoothing);
            // "bb" never occurred, so p(· | bb) is p(· | b); "cc" neither, and "c" did.
            Assert.Equal(model.Distribution([1]), model.Distribution([1, 1]));
            Assert.Equal(model.Distribution([2]), model.Distribution([2, 2]));
            // Longer histories are cut to the last n − 1 tokens.
            Assert.Equal(model.Distribution([0, 2]), model.Distribution([1, 1, 1, 0, 2]));
        }
    }

    [Fact]
    public void MaximumLikelihood_GivesZeroToUnseenTokens_AndInfinitePerplexity()
    {
        var tokenizer = new CharTokenizer("abc");
        var model = NGramLanguageModel.Train(tokenizer, "ababab", 2, Smoothing.None);
        Assert.Equal(0, model.Probability([0], 2));
        Assert.True(double.IsPositiveInfinity(model.Evaluate("abc").Perplexity));
        Assert.True(double.IsFinite(NGramLanguageModel.Train(tokenizer, "ababab", 2, Smoothing.KneserNey()).Evaluate("abc").Perplexity));
    }

    [Fact]
    public void PerplexityAndBitsPerCharacter_OnAKnownDistribution()
    {
        // A unigram model of "aaab…" is p(a) = 3/4, p(b) = 1/4, whatever the text it is scored on.
        var tokenizer = new CharTokenizer("ab");
        var model = NGramLanguageModel.Train(tokenizer, string.Concat(Enumerable.Repeat("aaab", 50)), 1, Smoothing.None);
        const string text = "aabbbabaab";
        // The first token is given; the other 9 are predicted: 4 a's and 5 b's.
        var nats = -(4 * Math.Log(0.75) + 5 * Math.Log(0.25));

        var result = model.Evaluate(text);

        Assert.Equal(9, result.Tokens);
        Assert.Equal(9, result.Characters);
        Assert.Equal(nats, result.Nats, 12);
        Assert.Equal(nats / 9, result.Loss, 12);
        Assert.Equal(Math.Exp(nats / 9), result.Perplexity, 12);
        Assert.Equal(nats / 9 / Math.Log(2), result.BitsPerCharacter, 12);

        // Four equally likely letters: perplexity 4, 2 bits per character.
        var uniform = NGramLanguageModel.Train(new CharTokenizer("abcd"), "abcdabcd", 1, Smoothing.None);
        var four = uniform.Evaluate("dcbaabcd");
        Assert.Equal(4, four.Perplexity, 12);
        Assert.Equal(2, four.BitsPerCharacter, 12);
        // A deterministic cycle is predicted with certainty by a bigram: perplexity 1.
        Assert.Equal(1, NGramLanguageModel.Train(new CharTokenizer("abcd"), "abcdabcd", 2, Smoothing.None).Evaluate("abcdab").Perplexity, 12);
    }

    [Fact]
    public void Generate_IsSeeded_AndFollowsTheCounts()
    {
        var tokenizer = new CharTokenizer("abcd");
        var cycle = NGramLanguageModel.Train(tokenizer, "abcdabcdabcd", 2, Smoothing.None);
        Assert.Equal("abcdabcdab", cycle.Generate("a", 9, seed: 3));

        var text = TinyPlays.Generate(20_000);
        var model = NGramLanguageModel.Train(CharTokenizer.FromText(text), text, 4, Smoothing.KneserNey());
        var sample = model.Generate("KING:\n", 200, seed: 5);
        Assert.Equal(sample, model.Generate("KING:\n", 200, seed: 5));
        Assert.NotEqual(sample, model.Generate("KING:\n", 200, seed: 6));
        Assert.StartsWith("KING:\n", sample);
        Assert.Equal(206, sample.Length);
        // Greedy decoding always takes the most likely next character.
        var greedy = model.Generate("The ", 1, Sampling.Greedy);
        var p = model.Distribution(tokenizer: model.Tokenizer, "The ");
        Assert.Equal(model.Tokenizer.Decode([Array.IndexOf(p, p.Max())]), greedy[^1..]);
    }

    [Fact]
    public void WordLevel_CountsWords_AndMapsUnseenWordsToUnk()
    {
        const string train = "the king is here.\nthe queen is here.\n";
        var tokenizer = WordTokenizer.FromText(train);
        var model = NGramLanguageModel.Train(tokenizer, train, 2, Smoothing.KneserNey());
        Assert.Equal(2, model.Count(tokenizer.Encode("is here")));
        Assert.Equal(2, model.Count(tokenizer.Encode("the")));
        Assert.Equal([0], tokenizer.Encode("duke"));
        Assert.StartsWith("word 2-gram", model.Name);
        Assert.True(double.IsFinite(model.Evaluate("the duke is here.").Loss));
    }

    [Fact]
    public void BadArguments_AreNamed()
    {
        var tokenizer = new CharTokenizer("ab");
        Assert.Contains("order", Assert.Throws<ArgumentOutOfRangeException>(() => NGramLanguageModel.Train(tokenizer, "ab", 0, Smoothing.None)).Message);
        Assert.Contains("128-bit", Assert.Throws<ArgumentOutOfRangeException>(() => NGramLanguageModel.Train(tokenizer, "ab", 200, Smoothing.None)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Smoothing.AddK(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Smoothing.KneserNey(1.5));
        var model = NGramLanguageModel.Train(tokenizer, "abab", 2, Smoothing.None);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentOutOfRangeException>(() => model.Probability([0], 5)).Message);
        Assert.Throws<InvalidOperationException>(() => model.Discount(1));
    }
}

static class NGramTestExtensions
{
    public static double[] Distribution(this NGramLanguageModel model, ITokenizer tokenizer, string history) =>
        model.Distribution(tokenizer.Encode(history));
}
