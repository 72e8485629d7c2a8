using LlmCourse.Charts;

namespace LlmCourse.Tokenizers;

/// <summary>
/// The lesson's views of a tokenizer, as thin calls onto the course's charts: a text cut into
/// coloured tokens (<see cref="TokenView"/>), the merge list and the vocabulary in numbers
/// (<see cref="TableView"/>).
/// </summary>
public static class TokenizerViews
{
    public static TokenView Tokens(RegexBpeTokenizer tokenizer, string text, string? title = null, IEnumerable<string>? allowedSpecial = null)
    {
        var pieces = tokenizer.Tokenize(text, allowedSpecial);
        return new TokenView(pieces.Select(p => p.Text), pieces.Select(p => p.Id), title ?? tokenizer.Name);
    }

    public static TokenView Tokens(BpeTokenizer tokenizer, string text, string? title = null)
    {
        var ids = tokenizer.Encode(text);
        return new TokenView(ids.Select(id => TokenText(tokenizer.Vocabulary.BytesOf(id))), ids, title ?? "BPE (no pre-tokenizer)");
    }

    public static TokenView Tokens(CharTokenizer tokenizer, string text, string? title = null)
    {
        var ids = tokenizer.Encode(text);
        return new TokenView(ids.Select(id => tokenizer.CharOf(id).ToString()), ids, title ?? "characters");
    }

    public static TableView Merges(RegexBpeTokenizer tokenizer, int take = 20, string? title = null) =>
        MergeTable(BpeTables.Merges(tokenizer, take), title ?? $"{tokenizer.Name}: the first {take} merges");

    public static TableView Merges(BpeTokenizer tokenizer, int take = 20, string? title = null) =>
        MergeTable(BpeTables.Merges(tokenizer, take), title ?? $"the first {take} merges");

    /// <summary>Tokens in quotes, so that the leading space of ' the' can be seen.</summary>
    static TableView MergeTable(IReadOnlyList<MergeEntry> merges, string title)
    {
        var withCounts = merges.Any(m => m.Count is not null);
        string[] columns = withCounts ? ["rank", "id", "left", "right", "token", "pair count"] : ["rank", "id", "left", "right", "token"];
        return new TableView(columns, merges.Select(m =>
        {
            object?[] row = [m.Rank, m.Id, $"'{m.Left}'", $"'{m.Right}'", $"'{m.Token}'", m.Count];
            return withCounts ? row : row[..5];
        }), title);
    }

    /// <summary>One row per tokenizer: vocabulary size, how many tokens are merges, mean and longest token.</summary>
    public static TableView Vocabularies(params (string Name, RegexBpeTokenizer Tokenizer)[] tokenizers) =>
        new(["tokenizer", "vocabulary", "merged tokens", "special", "mean bytes per token", "longest tokens"],
            tokenizers.Select(t => BpeTables.Stats(t.Tokenizer, longest: 3) is var s
                ? new object?[] { t.Name, s.VocabSize, s.MergedTokens, s.SpecialTokens, s.MeanBytesPerToken, string.Join("  ", s.LongestTokens.Select(x => $"'{(x.Length <= 20 ? x : x[..20] + "…")}'")) }
                : null!),
            "Vocabularies");

    /// <summary>A token's text for a view: as it is when it is whole UTF-8, else its bytes escaped (\xF0).</summary>
    internal static string TokenText(ReadOnlySpan<byte> bytes) =>
        System.Text.Unicode.Utf8.IsValid(bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : BpeVocabulary.Display(bytes);
}
