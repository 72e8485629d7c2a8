using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>
/// The basic byte-level BPE (minbpe's <c>BasicTokenizer</c>): merges learned on the raw bytes of the
/// whole text, with no pre-tokenization, so a merge may join the end of one word to the start of the
/// next ("e t", "d, "). <see cref="RegexBpeTokenizer"/> is the step after this one.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class BpeTokenizer : ITokenizer
{
    public BpeTokenizer(BpeVocabulary vocabulary, IReadOnlyList<BpeTrainingStep>? trainingLog = null)
    {
        Vocabulary = vocabulary;
        TrainingLog = trainingLog;
    }

    /// <summary>Learns <c>vocabSize - 256</c> merges from the text (fewer if it runs out of pairs).</summary>
    public static BpeTokenizer Train(string text, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (vocabSize < 256) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "BpeTokenizer.Train: a byte-level vocabulary has at least the 256 bytes.");
        var steps = BpeTrainer.Train([(Encoding.UTF8.GetBytes(text), 1)], vocabSize - 256);
        return new BpeTokenizer(BpeVocabulary.FromMerges(steps.Select(s => s.Merge).ToArray()), steps);
    }

    public BpeVocabulary Vocabulary { get; }

    public IReadOnlyList<BpeMerge> Merges => Vocabulary.Merges;

    /// <summary>Each merge with its pair's count when it was chosen; null for a tokenizer that was loaded.</summary>
    public IReadOnlyList<BpeTrainingStep>? TrainingLog { get; }

    public int VocabSize => Vocabulary.Count;

    public override string ToString() => $"BpeTokenizer: {Merges.Count:N0} merges, vocabulary size {VocabSize:N0}";

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EncodeBytes(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Any bytes, UTF-8 or not: a byte-level tokenizer has a token for each.</summary>
    public int[] EncodeBytes(ReadOnlySpan<byte> bytes)
    {
        var ids = new int[bytes.Length];
        return ids[..BytePairMerge.Encode(bytes, Vocabulary, ids)];
    }

    /// <summary>The text back; bytes that are not valid UTF-8 (a token sequence cut mid-character) become U+FFFD.</summary>
    public string Decode(IReadOnlyList<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    public byte[] DecodeBytes(IReadOnlyList<int> ids) => TokenBytes.Concat(ids, Vocabulary, null);

    public void Save(string path) => BpeModelFile.Write(path, null, new Dictionary<string, int>(), Vocabulary);

    public static BpeTokenizer Load(string path)
    {
        var contents = BpeModelFile.Read(path);
        if (contents.Pattern is not null || contents.SpecialTokens.Count > 0)
            throw new InvalidDataException($"{path}: this model has a pattern or special tokens; load it with RegexBpeTokenizer.Load.");
        return new BpeTokenizer(BpeVocabulary.FromMerges(contents.Merges, path));
    }
}

/// <summary>Turning ids back into bytes, shared by the BPE tokenizers.</summary>
static class TokenBytes
{
    public static byte[] Concat(IReadOnlyList<int> ids, BpeVocabulary vocabulary, IReadOnlyDictionary<int, byte[]>? specials)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var length = 0;
        for (var i = 0; i < ids.Count; i++) length += Bytes(ids, i, vocabulary, specials).Length;
        var result = new byte[length];
        var at = 0;
        for (var i = 0; i < ids.Count; i++)
        {
            var bytes = Bytes(ids, i, vocabulary, specials);
            bytes.CopyTo(result.AsSpan(at));
            at += bytes.Length;
        }
        return result;
    }

    static ReadOnlySpan<byte> Bytes(IReadOnlyList<int> ids, int i, BpeVocabulary vocabulary, IReadOnlyDictionary<int, byte[]>? specials)
    {
        var id = ids[i];
        if (vocabulary.Contains(id)) return vocabulary.BytesOf(id);
        if (specials is not null && specials.TryGetValue(id, out var special)) return special;
        throw new ArgumentOutOfRangeException(nameof(ids), id,
            $"Token id {id} at position {i} is neither in the vocabulary (0 to {vocabulary.Count - 1}) nor a special token.");
    }
}
