using System.Globalization;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>
/// The simplest tokenizer: one token per character (a UTF-16 <see cref="char"/>), the vocabulary
/// being the text's distinct characters sorted by code, so id order is stable and readable
/// (<c>'\n'</c>, <c>' '</c>, <c>'!'</c>, …, <c>'A'</c>, …, <c>'a'</c>, …).
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class CharTokenizer : ITokenizer
{
    readonly char[] chars;
    readonly Dictionary<char, int> ids;

    /// <summary>A tokenizer over exactly these characters, in this order (duplicates refused).</summary>
    public CharTokenizer(IEnumerable<char> vocabulary)
    {
        chars = vocabulary.ToArray();
        ids = new Dictionary<char, int>(chars.Length);
        for (var i = 0; i < chars.Length; i++)
            if (!ids.TryAdd(chars[i], i))
                throw new ArgumentException($"CharTokenizer: the character {Describe(chars[i])} appears twice in the vocabulary.", nameof(vocabulary));
    }

    /// <summary>The vocabulary of a text: its distinct characters in ordinal order.</summary>
    public static CharTokenizer FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var distinct = new HashSet<char>(text).ToArray();
        Array.Sort(distinct);
        return new CharTokenizer(distinct);
    }

    public int VocabSize => chars.Length;

    /// <summary>The characters, indexed by token id.</summary>
    public IReadOnlyList<char> Vocabulary => chars;

    /// <summary>The vocabulary as a cell's result shows it: its size and the characters, control characters made visible.</summary>
    public override string ToString() => $"CharTokenizer: {VocabSize} characters: {string.Concat(chars.Select(Visible))}";

    static string Visible(char c) => c switch
    {
        '\n' => "\\n",
        '\t' => "\\t",
        ' ' => "␠",
        _ when char.IsControl(c) => $"\\u{(int)c:x4}",
        _ => c.ToString(),
    };

    public int IdOf(char c) => ids.TryGetValue(c, out var id) ? id
        : throw new ArgumentException($"CharTokenizer: the character {Describe(c)} is not in the vocabulary of {chars.Length} characters.");

    public char CharOf(int id) => (uint)id < (uint)chars.Length ? chars[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"CharTokenizer: token id {id} is outside the vocabulary [0, {chars.Length}).");

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            if (!ids.TryGetValue(text[i], out tokens[i]))
                throw new ArgumentException(
                    $"CharTokenizer: the character {Describe(text[i])} at position {i} is not in the vocabulary of {chars.Length} characters.",
                    nameof(text));
        }
        return tokens;
    }

    public string Decode(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return string.Create(ids.Count, (ids, this), static (span, state) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var id = state.ids[i];
                if ((uint)id >= (uint)state.Item2.chars.Length)
                    throw new ArgumentOutOfRangeException(nameof(ids), id,
                        $"CharTokenizer: token id {id} at position {i} is outside the vocabulary [0, {state.Item2.chars.Length}).");
                span[i] = state.Item2.chars[id];
            }
        });
    }

    /// <summary>A character as a reader can see it: <c>'é' (U+00E9)</c>, control characters escaped.</summary>
    internal static string Describe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c)
            ? string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}")
            : string.Create(CultureInfo.InvariantCulture, $"'{c}' (U+{(int)c:X4})");
}
