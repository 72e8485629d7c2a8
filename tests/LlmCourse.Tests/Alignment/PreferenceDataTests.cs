using LlmCourse.Alignment;
using LlmCourse.Tests.Text;

namespace LlmCourse.Tests.Alignment;

public sealed class PreferenceDataTests
{
    static readonly TrueReward Reward = TrueReward.ForCorpus(LlmCourse.Text.Corpus.BuiltIn().Text);

    [Fact]
    public void TrueReward_AWordEndingWhereThePromptEnds_IsContextOnly()
    {
        // "sweet" ends exactly at the prompt's end: the prompt's word, not the response's, so it earns nothing;
        // "fair" is the response's own positive word. The last word ("lady", cut off by the end) is not scored.
        var reward = new TrueReward(["my", "sweet", "lady", "is", "fair"], []);
        var explained = reward.Explain("My sweet", " lady is fair, lady");
        Assert.Equal(["fair"], explained.Positive);
        Assert.Equal(3, explained.Words);   // lady, is, fair
    }

    [Fact]
    public void TrueReward_CountsDistinctSentimentWords_AndPenalisesNonWordsAndRepeats()
    {
        // "sweet" and "noble" positive, "cruel" negative: sentiment +1; 8 scored words, no non-words, no repeats.
        var good = Reward.Explain("My ", "sweet lady is noble, the cruel king sleeps.\n");
        Assert.Equal(1, good.Sentiment);
        Assert.Equal(0, good.NonWords);
        Assert.Equal(1.0, good.Reward, 9);

        // "sweet" three times: counted once, and two repeats out of three words.
        var hacked = Reward.Explain("My ", "sweet sweet sweet.");
        Assert.Equal(1, hacked.Sentiment);
        Assert.Equal(2, hacked.Repeats);
        Assert.Equal(1 - 2.0 * 2 / 3, hacked.Reward, 9);

        // Non-words: "swe" and "sweetn" are not in the plays.
        var garbled = Reward.Explain("My ", "swe sweetn lady ");
        Assert.Equal(2, garbled.NonWords);
        Assert.Equal(-2.0 * 2 / 3, garbled.Reward, 9);

        // A word begun in the prompt is scored whole; a word cut off at the end is not scored.
        var split = Reward.Explain("My swe", "et lady is fa");
        Assert.Equal(["sweet"], split.Positive);
        Assert.Equal(3, split.Words);
    }

    [Fact]
    public void Annotators_FollowBradleyTerry()
    {
        var annotators = new Annotators(Temperature: 0.5);
        Assert.Equal(1 / (1 + Math.Exp(-2)), annotators.PreferenceProbability(1.5, 0.5), 12);
        var random = new Random(1);
        var wins = Enumerable.Range(0, 20_000).Count(_ => annotators.PrefersFirst(1.5, 0.5, random));
        Assert.Equal(annotators.PreferenceProbability(1.5, 0.5), wins / 20_000.0, 2);
        var noisy = new Annotators(Temperature: 0.01, LabelNoise: 0.2);
        var noisyWins = Enumerable.Range(0, 20_000).Count(_ => noisy.PrefersFirst(1, 0, random));
        Assert.Equal(0.8, noisyWins / 20_000.0, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Annotators(Temperature: 0).Validate());
    }

    static IReadOnlyList<string> FakeSampler(IReadOnlyList<string> prompts, int seed)
    {
        var words = new[] { "sweet lady ", "cruel king ", "the castle ", "xqz foo ", "noble friend " };
        var random = new Random(seed);
        return prompts.Select(_ => string.Concat(Enumerable.Range(0, 3).Select(_ => words[random.Next(words.Length)]))).ToArray();
    }

    [Fact]
    public void Generate_IsReproducible_AndDependsOnTheSeed()
    {
        var prompts = PreferenceData.Prompts(LlmCourse.Text.Corpus.BuiltIn().Train, count: 50);
        var a = PreferenceData.Generate(prompts, FakeSampler, Reward, new Annotators(), seed: 4);
        var b = PreferenceData.Generate(prompts, FakeSampler, Reward, new Annotators(), seed: 4);
        var c = PreferenceData.Generate(prompts, FakeSampler, Reward, new Annotators(), seed: 5);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, p => Assert.NotEqual(p.Chosen, p.Rejected));
        // Low-temperature annotators mostly agree with r*.
        var card = PreferenceData.Describe("test", a, Reward, new Annotators(), "fake", 4);
        Assert.True(card.AgreementWithTrueReward > 0.75, $"agreement {card.AgreementWithTrueReward:P0}");
        Assert.True(card.ChosenTrueReward > card.RejectedTrueReward);
    }

    [Fact]
    public void Jsonl_RoundTrips_WithTrlsFieldNames()
    {
        var pairs = new[] { new PreferencePair("My ", "sweet \"lady\"\n", "cruel king é") };
        var text = PreferenceData.ToJsonl(pairs);
        Assert.StartsWith("{\"prompt\":\"My \",\"chosen\":", text);
        Assert.Equal(pairs, PreferenceData.Parse(text));
        var path = Path.Combine(Path.GetTempPath(), $"prefs-{Guid.NewGuid():N}.jsonl");
        PreferenceData.Save(path, pairs, PreferenceData.Describe("x", pairs, Reward, new Annotators(), "hand", 0));
        Assert.Equal(pairs, PreferenceData.Load(path));
        Assert.Contains("Data card", File.ReadAllText(Path.ChangeExtension(path, ".md")));
        var error = Assert.Throws<FormatException>(() => PreferenceData.Parse("{\"prompt\":\"a\",\"chosen\":\"b\"}"));
        Assert.Contains("rejected", error.Message);
    }

    [Fact]
    public void CommittedPreferenceSet_EqualsTheGeneratorsOutput_ByteForByte()
    {
        var path = Path.Combine(TinyPlaysTests.DatasetsFolder(), PreferenceData.BuiltInFileName);
        var (pairs, card) = PreferenceData.GenerateBuiltIn();
        var generated = System.Text.Encoding.UTF8.GetBytes(PreferenceData.ToJsonl(pairs));
        if (Environment.GetEnvironmentVariable("LLMCOURSE_REGENERATE") == "1")
            PreferenceData.Save(path, pairs, card);
        var committed = File.ReadAllBytes(path);
        Assert.True(committed.AsSpan().SequenceEqual(generated),
            $"{path} ({committed.Length} bytes) differs from PreferenceData.GenerateBuiltIn() ({generated.Length} bytes); " +
            "regenerate it with LLMCOURSE_REGENERATE=1 dotnet test tests/LlmCourse.Tests -c Release --filter PreferenceData");
        Assert.Equal(File.ReadAllText(Path.ChangeExtension(path, ".md")), card.ToMarkdown());
        Assert.Equal(PreferenceData.Parse(File.ReadAllText(path)), PreferenceData.LoadBuiltIn());
        Assert.InRange(pairs.Count, 250, 300);
    }
}
