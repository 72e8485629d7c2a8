using LlmCourse.Tensors.Formatting;
using System.Globalization;

namespace LlmCourse.Alignment;

/// <summary>What <see cref="TrueReward.Explain"/> found in one response, term by term.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record RewardBreakdown(double Reward, int Sentiment, int Words, int NonWords, int Repeats,
    IReadOnlyList<string> Positive, IReadOnlyList<string> Negative)
{
    public double NonWordFraction => Words == 0 ? 0 : (double)NonWords / Words;
    public double RepeatFraction => Words == 0 ? 0 : (double)Repeats / Words;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"r* = {Reward:F2}: sentiment {Sentiment:+0;-0;0} (+[{string.Join(' ', Positive)}] −[{string.Join(' ', Negative)}]), " +
        $"{NonWords}/{Words} non-words, {Repeats}/{Words} repeats");
}

/// <summary>
/// The task's true reward r*, the quantity the course's alignment lessons try to raise and the
/// learners never see (after the controlled sentiment task of Rafailov et al. 2023, rebuilt offline):
/// <code>
/// r*(prompt, response) = sentiment − NonWordPenalty · (non-words / words) − RepeatPenalty · (repeats / words)
/// </code>
/// <list type="bullet">
/// <item><b>sentiment</b>: +1 for each distinct positive word of <see cref="Lexicon"/> in the response,
/// −1 for each distinct negative one. Counting distinct words means "sweet sweet sweet" earns 1, not 3.</item>
/// <item><b>non-words</b>: words that never occur in the corpus the base model learned from (a
/// character model that drifts writes "swe sweetn"); degenerate text scores badly.</item>
/// <item><b>repeats</b>: words already used earlier in the same response, except the corpus's most
/// common words ("the", "my", "and", ...), which good text repeats too.</item>
/// </list>
/// Words are runs of letters, lower-cased. Only words that <i>end</i> inside the response are scored:
/// the first one may have started in the prompt ("Good Kat" + "erine, ..." scores "katerine"), and a
/// last word cut off by the length limit ("the gard") is not scored at all.
/// </summary>
public sealed class TrueReward
{
    /// <summary>The sentiment lexicon, written for the course's built-in plays (<c>datasets/tinyplays.txt</c>):
    /// +1 for a positive word, −1 for a negative one.</summary>
    public static IReadOnlyDictionary<string, int> Lexicon { get; } = BuildLexicon(
        positive: ["sweet", "good", "noble", "kind", "fair", "merry", "bright", "wise", "gentle", "loyal", "honest", "brave",
                   "love", "loved", "loves", "friend", "friends", "hope", "honour", "golden", "rose", "roses", "song", "songs",
                   "dream", "dreams", "promise", "sing", "sings", "sang", "morning", "dawn"],
        negative: ["false", "dark", "bitter", "foolish", "poor", "heavy", "weary", "cold", "wicked", "cruel", "hungry",
                   "strange", "enemy", "enemies", "fear", "feared", "fears", "betray", "betrayed", "betrays", "weep", "wept",
                   "weeps", "alas", "fie", "storm", "storms", "stolen", "steal", "stole", "fallen", "forgotten"]);

    readonly HashSet<string> dictionary;
    readonly HashSet<string> commonWords;

    /// <param name="dictionary">every word the corpus uses: anything else is a non-word</param>
    /// <param name="commonWords">words whose repetition is not penalised</param>
    public TrueReward(IEnumerable<string> dictionary, IEnumerable<string> commonWords, double nonWordPenalty = 2, double repeatPenalty = 2)
    {
        this.dictionary = new HashSet<string>(dictionary.Select(w => w.ToLowerInvariant()), StringComparer.Ordinal);
        if (this.dictionary.Count == 0) throw new ArgumentException("TrueReward: the dictionary is empty; build it from the corpus text (TrueReward.ForCorpus).", nameof(dictionary));
        this.commonWords = new HashSet<string>(commonWords.Select(w => w.ToLowerInvariant()), StringComparer.Ordinal);
        NonWordPenalty = nonWordPenalty;
        RepeatPenalty = repeatPenalty;
    }

    public double NonWordPenalty { get; }
    public double RepeatPenalty { get; }
    public int DictionarySize => dictionary.Count;

    /// <summary>The true reward for a corpus: its words are the dictionary, its <paramref name="commonCount"/>
    /// most frequent words outside the lexicon may repeat freely (so "sweet sweet" is a repeat even though
    /// "sweet" is common in the plays).</summary>
    public static TrueReward ForCorpus(string text, int commonCount = 25, double nonWordPenalty = 2, double repeatPenalty = 2)
    {
        var counts = Words(text).GroupBy(w => w.Word).Select(g => (Word: g.Key, Count: g.Count())).ToList();
        var common = counts.Where(c => !Lexicon.ContainsKey(c.Word)).OrderByDescending(c => c.Count).ThenBy(c => c.Word, StringComparer.Ordinal).Take(commonCount).Select(c => c.Word);
        return new TrueReward(counts.Select(c => c.Word), common, nonWordPenalty, repeatPenalty);
    }

    /// <summary>r* of <paramref name="response"/> written after <paramref name="prompt"/>.</summary>
    public double Score(string prompt, string response) => Explain(prompt, response).Reward;

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        if (prompts.Count != responses.Count) throw new ArgumentException($"TrueReward: {prompts.Count} prompts but {responses.Count} responses.");
        return prompts.Select((p, i) => Score(p, responses[i])).ToArray();
    }

    public RewardBreakdown Explain(string prompt, string response)
    {
        var text = prompt + response;
        int words = 0, nonWords = 0, repeats = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var positive = new List<string>();
        var negative = new List<string>();
        foreach (var (word, end) in Words(text))
        {
            if (end <= prompt.Length) { seen.Add(word); continue; }   // the prompt's words: context only
            if (end == text.Length) break;                            // cut off by the length limit: not scored
            words++;
            if (!dictionary.Contains(word)) nonWords++;
            else if (!seen.Add(word) && !commonWords.Contains(word)) repeats++;
            if (Lexicon.TryGetValue(word, out var polarity))
            {
                var list = polarity > 0 ? positive : negative;
                if (!list.Contains(word)) list.Add(word);
            }
        }
        var sentiment = positive.Count - negative.Count;
        var reward = sentiment
            - (words == 0 ? 0 : NonWordPenalty * nonWords / words)
            - (words == 0 ? 0 : RepeatPenalty * repeats / words);
        return new RewardBreakdown(reward, sentiment, words, nonWords, repeats, positive, negative);
    }

    /// <summary>Runs of letters, lower-cased, each with the index just past its last letter.</summary>
    public static IEnumerable<(string Word, int End)> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var letter = i < text.Length && char.IsLetter(text[i]);
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                yield return (text[start..i].ToLowerInvariant(), i);
                start = -1;
            }
        }
    }

    static Dictionary<string, int> BuildLexicon(string[] positive, string[] negative)
    {
        var lexicon = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var w in positive) lexicon.Add(w, +1);
        foreach (var w in negative) lexicon.Add(w, -1);
        return lexicon;
    }
}
