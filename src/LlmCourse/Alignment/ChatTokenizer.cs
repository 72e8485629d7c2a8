using LlmCourse.Tokenizers;

namespace LlmCourse.Alignment;

/// <summary>
/// A character tokenizer grown for chat: the pretrained model's characters keep their ids
/// (0 … V−1), then come the characters the instruction tasks need that the pretraining text lacked
/// (in TinyShakespeare's case '+' and nine of the ten digits), then the chat template's special tokens. Keeping the
/// old ids where they were is what lets the pretrained embedding rows be copied over unchanged.
/// Ordinary text never encodes to a special token: <see cref="Encode"/> maps characters only, so a
/// user cannot forge a turn boundary and only <see cref="ChatTemplate"/> places special ids. The string
/// "&lt;|user_end|&gt;" would be twelve ordinary characters where the vocabulary has them all; TinyShakespeare's
/// has no '&lt;', '|', '_' or '&gt;', so there <see cref="Encode"/> throws on it (a byte-level BPE, which
/// can encode any text, would turn it into a few ordinary tokens).
/// </summary>
public sealed class ChatTokenizer : ITokenizer
{
    readonly CharTokenizer characters;
    readonly string[] specials;
    readonly Dictionary<string, int> specialIds;

    /// <param name="baseVocabulary">The pretrained tokenizer's characters, in id order.</param>
    /// <param name="extraCharacters">Characters to add after them (those already present are skipped).</param>
    /// <param name="specialTokens">Special tokens, added last, in this order.</param>
    public ChatTokenizer(IReadOnlyList<char> baseVocabulary, IEnumerable<char> extraCharacters, IReadOnlyList<string> specialTokens)
    {
        BaseVocabSize = baseVocabulary.Count;
        var all = new List<char>(baseVocabulary);
        var seen = new HashSet<char>(baseVocabulary);
        foreach (var c in extraCharacters) if (seen.Add(c)) all.Add(c);
        characters = new CharTokenizer(all);
        specials = specialTokens.ToArray();
        specialIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < specials.Length; i++)
            if (!specialIds.TryAdd(specials[i], characters.VocabSize + i))
                throw new ArgumentException($"ChatTokenizer: the special token '{specials[i]}' is listed twice.", nameof(specialTokens));
    }

    /// <summary>How many ids the pretrained model had: ids below this keep their pretrained rows.</summary>
    public int BaseVocabSize { get; }

    /// <summary>Characters (base and added), indexed by id.</summary>
    public IReadOnlyList<char> Characters => characters.Vocabulary;

    /// <summary>The characters that were added after the pretrained ones.</summary>
    public IEnumerable<char> AddedCharacters => characters.Vocabulary.Skip(BaseVocabSize);

    public IReadOnlyList<string> SpecialTokens => specials;

    public int VocabSize => characters.VocabSize + specials.Length;

    /// <summary>The id of a special token, e.g. <c>SpecialId("&lt;|assistant_end|&gt;")</c>.</summary>
    public int SpecialId(string token) => specialIds.TryGetValue(token, out var id) ? id
        : throw new ArgumentException($"ChatTokenizer: '{token}' is not a special token (it has: {string.Join(", ", specials)}).", nameof(token));

    public bool IsSpecial(int id) => id >= characters.VocabSize && id < VocabSize;

    /// <summary>Plain text to character ids; special-token strings are read as ordinary characters (and a
    /// character outside the vocabulary throws, as in <see cref="CharTokenizer.Encode"/>).</summary>
    public int[] Encode(string text) => characters.Encode(text);

    /// <summary>True when every character of the text has an id.</summary>
    public bool CanEncode(string text) => text.All(c => characters.Vocabulary.Contains(c));

    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new System.Text.StringBuilder(ids.Count);
        foreach (var id in ids) sb.Append(TokenText(id));
        return sb.ToString();
    }

    /// <summary>One token as text: its character, or the special token's name.</summary>
    public string TokenText(int id) =>
        IsSpecial(id) ? specials[id - characters.VocabSize]
        : (uint)id < (uint)characters.VocabSize ? characters.CharOf(id).ToString()
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"ChatTokenizer: token id {id} is outside the vocabulary [0, {VocabSize}).");
}
