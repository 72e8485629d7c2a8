using System.Text;
using System.Text.RegularExpressions;

namespace LlmCourse.Tokenizers;

/// <summary>
/// Words as tokens, for the word-level n-grams of lesson 01: a word is a run of letters (with
/// inner apostrophes, "ne'er"), every other visible character is a token of its own, a line break
/// is the token <c>"\n"</c>, and spaces are dropped (they come back on decoding). The vocabulary
/// is the training text's words; a word it has not seen becomes <c>&lt;unk&gt;</c> (id 0).
/// </summary>
public sealed partial class WordTokenizer : ITokenizer
{
    public const string Unknown = "<unk>";

    readonly string[] words;
    readonly Dictionary<string, int> ids;

    public WordTokenizer(IEnumerable<string> vocabulary)
    {
        words = new[] { Unknown }.Concat(vocabulary.Where(w => w != Unknown)).ToArray();
        ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (var i = 0; i < words.Length; i++)
            if (!ids.TryAdd(words[i], i))
                throw new ArgumentException($"WordTokenizer: the word '{words[i]}' appears twice in the vocabulary.", nameof(vocabulary));
    }

    /// <summary>The words of a text seen at least <paramref name="minCount"/> times, most frequent first.</summary>
    public static WordTokenizer FromText(string text, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var word in Split(text)) counts[word] = counts.GetValueOrDefault(word) + 1;
        return new WordTokenizer(counts.Where(kv => kv.Value >= minCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key));
    }

    public int VocabSize => words.Length;

    public IReadOnlyList<string> Vocabulary => words;

    [GeneratedRegex(@"[A-Za-z]+(?:'[A-Za-z]+)*|\n|[^\s]")]
    private static partial Regex TokenPattern();

    /// <summary>The text's tokens as strings, before any are replaced by <c>&lt;unk&gt;</c>.</summary>
    public static IEnumerable<string> Split(string text) => TokenPattern().Matches(text).Select(m => m.Value);

    public int[] Encode(string text) => Split(text).Select(w => ids.GetValueOrDefault(w, 0)).ToArray();

    public string Decode(IReadOnlyList<int> tokens)
    {
        var text = new StringBuilder();
        for (var i = 0; i < tokens.Count; i++)
        {
            var id = tokens[i];
            if ((uint)id >= (uint)words.Length)
                throw new ArgumentOutOfRangeException(nameof(tokens), id, $"WordTokenizer: token id {id} at position {i} is outside the vocabulary [0, {words.Length}).");
            var word = words[id];
            var glued = text.Length == 0 || text[^1] == '\n' || word == "\n" || (word.Length == 1 && ".,;:!?'-)".Contains(word[0]));
            if (!glued) text.Append(' ');
            text.Append(word);
        }
        return text.ToString();
    }
}
