namespace LlmCourse.Tokenizers;

/// <summary>
/// Special tokens (<c>&lt;|endoftext|&gt;</c>) are ids outside the BPE vocabulary that mark document
/// boundaries or roles. Text typed by a user must not be able to produce them by accident, so, as in
/// tiktoken, encoding refuses a text that contains a special token's string unless the caller says
/// what to do with it: <c>allowedSpecial</c> lists those to encode as their special id,
/// <c>disallowedSpecial</c> those to refuse (default: every special token not allowed). A special
/// token in neither list is encoded as ordinary text. <see cref="All"/> stands for all of them.
/// </summary>
public static class SpecialTokens
{
    /// <summary>Pass as <c>allowedSpecial</c> or <c>disallowedSpecial</c> to mean every special token.</summary>
    public static IEnumerable<string> All { get; } = new AllSpecialTokens();

    sealed class AllSpecialTokens : IEnumerable<string>
    {
        public IEnumerator<string> GetEnumerator() => Enumerable.Empty<string>().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => "SpecialTokens.All";
    }

    /// <summary>The names in a list, checked against the tokenizer's special tokens; <see cref="All"/> gives all of them.</summary>
    internal static HashSet<string> Resolve(IEnumerable<string>? names, IReadOnlyDictionary<string, int> specials, string parameter)
    {
        if (names is null) return [];
        if (ReferenceEquals(names, All)) return [.. specials.Keys];
        var set = new HashSet<string>(names, StringComparer.Ordinal);
        foreach (var name in set)
            if (!specials.ContainsKey(name))
                throw new ArgumentException(
                    $"{parameter}: '{name}' is not a special token of this tokenizer (it has: {(specials.Count == 0 ? "none" : string.Join(", ", specials.Keys))}).",
                    parameter);
        return set;
    }

    /// <summary>
    /// The first occurrence at or after <paramref name="start"/> of any of the tokens; on a tie the
    /// longest. Returns (-1, null) when there is none.
    /// </summary>
    internal static (int Index, string? Token) FindFirst(string text, int start, IEnumerable<string> tokens)
    {
        var (index, found) = (-1, (string?)null);
        foreach (var token in tokens)
        {
            var at = text.IndexOf(token, start, StringComparison.Ordinal);
            if (at >= 0 && (index < 0 || at < index || (at == index && token.Length > found!.Length))) (index, found) = (at, token);
        }
        return (index, found);
    }
}

/// <summary>A special token's string found in text that was not allowed to contain it.</summary>
public sealed class DisallowedSpecialTokenException(string token, int position)
    : ArgumentException(
        $"The text contains the special token '{token}' at position {position}, which is not allowed. " +
        $"Pass it in allowedSpecial to encode it as its special id, or leave it out of disallowedSpecial (e.g. disallowedSpecial: []) to encode it as ordinary text.",
        "text")
{
    public string Token { get; } = token;

    /// <summary>Where it starts, in UTF-16 units of the text.</summary>
    public int Position { get; } = position;
}
