using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>One row of a merge list: merge number <see cref="Rank"/> made token <see cref="Id"/> from two tokens.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record MergeEntry(int Rank, int Id, string Left, string Right, string Token, long? Count);

/// <summary>One row of a vocabulary summary: how many tokens are this many bytes long.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record TokenLengthCount(int Bytes, int Tokens);

/// <summary>A vocabulary in numbers, for the notebook's tables.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record VocabularyStats(
    int VocabSize, int ByteTokens, int MergedTokens, int SpecialTokens, double MeanBytesPerToken,
    IReadOnlyList<string> LongestTokens, IReadOnlyList<TokenLengthCount> Lengths);

/// <summary>
/// The data behind the lesson's views of a BPE: the merge list, vocabulary statistics, and how much a
/// tokenizer compresses a text. Every string is a token as <see cref="BpeVocabulary.Display(int)"/> shows it.
/// </summary>
public static class BpeTables
{
    /// <summary>The merges in order (optionally only the first <paramref name="take"/>), with their pair counts when trained here.</summary>
    public static IReadOnlyList<MergeEntry> Merges(BpeVocabulary vocabulary, IReadOnlyList<BpeTrainingStep>? trainingLog = null, int? take = null) =>
        vocabulary.Merges.Take(take ?? int.MaxValue).Select((m, i) => new MergeEntry(
            i, m.Id, vocabulary.Display(m.Left), vocabulary.Display(m.Right), vocabulary.Display(m.Id),
            trainingLog is not null && i < trainingLog.Count ? trainingLog[i].Count : null)).ToArray();

    public static IReadOnlyList<MergeEntry> Merges(RegexBpeTokenizer tokenizer, int? take = null) =>
        Merges(tokenizer.Vocabulary, tokenizer.TrainingLog, take);

    public static IReadOnlyList<MergeEntry> Merges(BpeTokenizer tokenizer, int? take = null) =>
        Merges(tokenizer.Vocabulary, tokenizer.TrainingLog, take);

    public static VocabularyStats Stats(BpeVocabulary vocabulary, int specialTokens = 0, int longest = 10)
    {
        var lengths = Enumerable.Range(0, vocabulary.Count).Where(vocabulary.Contains)
            .Select(id => (Id: id, Length: vocabulary.BytesOf(id).Length)).ToArray();
        return new VocabularyStats(
            vocabulary.Count + specialTokens,
            lengths.Count(t => t.Length == 1),
            lengths.Count(t => t.Length > 1),
            specialTokens,
            lengths.Average(t => t.Length),
            lengths.OrderByDescending(t => t.Length).ThenBy(t => t.Id).Take(longest).Select(t => vocabulary.Display(t.Id)).ToArray(),
            lengths.GroupBy(t => t.Length).OrderBy(g => g.Key).Select(g => new TokenLengthCount(g.Key, g.Count())).ToArray());
    }

    public static VocabularyStats Stats(RegexBpeTokenizer tokenizer, int longest = 10) =>
        Stats(tokenizer.Vocabulary, tokenizer.SpecialTokens.Count, longest);

    /// <summary>UTF-8 bytes per token: how much the tokenizer compresses the text (1.0 for bytes).</summary>
    public static double BytesPerToken(ITokenizer tokenizer, string text)
    {
        var tokens = tokenizer.Encode(text).Length;
        return tokens == 0 ? 0 : (double)Encoding.UTF8.GetByteCount(text) / tokens;
    }
}
