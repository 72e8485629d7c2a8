using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>
/// Byte-level BPE after a regex pre-tokenizer, with special tokens (minbpe's <c>RegexTokenizer</c>;
/// tiktoken's <c>Encoding</c>). The text is split into pre-tokens (<see cref="PreTokenizer"/>), each
/// pre-token's UTF-8 bytes are merged on their own (<see cref="BytePairMerge"/>), and special tokens
/// are handled as <see cref="SpecialTokens"/> describes. GPT-2's tokenizer is one of these, loaded
/// from its ranks (<see cref="Gpt2Tokenizer"/>); so is one trained here with <see cref="Train"/>.
///
/// Encoding remembers the ids of each pre-token it has seen (words repeat), so the merge loop runs
/// once per distinct word. Instances are safe to use from several threads.
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed class RegexBpeTokenizer : ITokenizer
{
    /// <summary>The cache is emptied when it holds this many pre-tokens, so memory stays bounded.</summary>
    const int CacheLimit = 200_000;
    /// <summary>Longer pre-tokens (runs of spaces, long numbers) are not worth remembering.</summary>
    const int CachedLength = 64;

    readonly Dictionary<string, int> specialTokens;
    readonly Dictionary<int, byte[]> specialBytes;
    readonly ConcurrentDictionary<string, int[]> cache = new(StringComparer.Ordinal);
    int cacheCount;

    public RegexBpeTokenizer(BpeVocabulary vocabulary, string pattern, IReadOnlyDictionary<string, int>? specialTokens = null,
        string name = "bpe", IReadOnlyList<BpeTrainingStep>? trainingLog = null)
    {
        Vocabulary = vocabulary;
        PreTokenizer = PreTokenizer.For(pattern);
        Name = name;
        TrainingLog = trainingLog;
        this.specialTokens = new Dictionary<string, int>(specialTokens ?? new Dictionary<string, int>(), StringComparer.Ordinal);
        specialBytes = [];
        foreach (var (token, id) in this.specialTokens)
        {
            if (token.Length == 0) throw new ArgumentException($"{name}: a special token cannot be empty.", nameof(specialTokens));
            if (id < 0 || vocabulary.Contains(id))
                throw new ArgumentException($"{name}: the special token '{token}' has id {id}, which {(id < 0 ? "is negative" : "is already the BPE token " + vocabulary.Display(id))}.", nameof(specialTokens));
            if (!specialBytes.TryAdd(id, Encoding.UTF8.GetBytes(token)))
                throw new ArgumentException($"{name}: two special tokens have the id {id}.", nameof(specialTokens));
        }
        VocabSize = Math.Max(vocabulary.Count, specialBytes.Count == 0 ? 0 : specialBytes.Keys.Max() + 1);
        cacheLookup = cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> cacheLookup;

    /// <summary>
    /// Trains on a text: splits it with the pattern, counts the distinct pre-tokens, and learns
    /// <c>vocabSize - 256 - specialTokens.Count</c> merges (<see cref="BpeTrainer"/>). The special
    /// tokens take the last ids, as <c>&lt;|endoftext|&gt;</c> does in GPT-2, and their strings are
    /// cut out of the training text.
    /// </summary>
    public static RegexBpeTokenizer Train(string text, int vocabSize, string pattern = PreTokenizer.Gpt2Pattern,
        IEnumerable<string>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var specials = (specialTokens ?? []).Distinct(StringComparer.Ordinal).ToArray();
        var mergeCount = vocabSize - 256 - specials.Length;
        if (mergeCount < 0)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"RegexBpeTokenizer.Train: the vocabulary needs room for the 256 bytes and {specials.Length} special tokens.");

        var preTokenizer = PreTokenizer.For(pattern);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var start = 0; start <= text.Length;)
        {
            var (at, special) = Tokenizers.SpecialTokens.FindFirst(text, start, specials);
            var end = at < 0 ? text.Length : at;
            var segment = text.AsSpan(start, end - start);
            foreach (var (pieceStart, length) in preTokenizer.Pieces(segment))
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, segment.Slice(pieceStart, length), out _)++;
            if (special is null) break;
            start = at + special.Length;
        }

        var words = counts.Select(c => (Encoding.UTF8.GetBytes(c.Key), c.Value)).ToArray();
        var steps = BpeTrainer.Train(words, mergeCount);
        var vocabulary = BpeVocabulary.FromMerges(steps.Select(s => s.Merge).ToArray());
        var specialIds = specials.Select((s, i) => (s, vocabulary.Count + i)).ToDictionary(p => p.s, p => p.Item2, StringComparer.Ordinal);
        return new RegexBpeTokenizer(vocabulary, pattern, specialIds, "trained", steps);
    }

    public string Name { get; }

    public BpeVocabulary Vocabulary { get; }

    public PreTokenizer PreTokenizer { get; }

    public string Pattern => PreTokenizer.Pattern;

    public IReadOnlyDictionary<string, int> SpecialTokens => specialTokens;

    public IReadOnlyList<BpeMerge> Merges => Vocabulary.Merges;

    /// <summary>Each merge with its pair's count when it was chosen; null for a tokenizer that was loaded.</summary>
    public IReadOnlyList<BpeTrainingStep>? TrainingLog { get; }

    /// <summary>One more than the largest id, special tokens included (50,257 for GPT-2).</summary>
    public int VocabSize { get; }

    public override string ToString() =>
        $"{Name}: {Vocabulary.TokenCount:N0} tokens + {specialTokens.Count} special, vocabulary size {VocabSize:N0}";

    /// <summary>Encodes text in which every special token's string is refused (tiktoken's default).</summary>
    public int[] Encode(string text) => Encode(text, null, null);

    /// <summary>
    /// Encodes text. <paramref name="allowedSpecial"/>: special tokens to encode as their ids (or
    /// <see cref="Tokenizers.SpecialTokens.All"/>). <paramref name="disallowedSpecial"/>: special tokens whose
    /// appearance is an error; null means every one not allowed. Any other special token's string is
    /// ordinary text.
    /// </summary>
    public int[] Encode(string text, IEnumerable<string>? allowedSpecial, IEnumerable<string>? disallowedSpecial = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 16);
        if (specialTokens.Count == 0)
        {
            EncodeOrdinary(text, ids);
            return [.. ids];
        }

        var allowed = Tokenizers.SpecialTokens.Resolve(allowedSpecial, specialTokens, nameof(allowedSpecial));
        var disallowed = disallowedSpecial is null
            ? specialTokens.Keys.Where(s => !allowed.Contains(s)).ToHashSet(StringComparer.Ordinal)
            : Tokenizers.SpecialTokens.Resolve(disallowedSpecial, specialTokens, nameof(disallowedSpecial));
        if (disallowed.Count > 0 && Tokenizers.SpecialTokens.FindFirst(text, 0, disallowed) is (>= 0 and var position, { } token))
            throw new DisallowedSpecialTokenException(token, position);

        for (var start = 0; ;)
        {
            var (at, special) = Tokenizers.SpecialTokens.FindFirst(text, start, allowed);
            EncodeOrdinary(text.AsSpan(start, (at < 0 ? text.Length : at) - start), ids);
            if (special is null) break;
            ids.Add(specialTokens[special]);
            start = at + special.Length;
        }
        return [.. ids];
    }

    /// <summary>Encodes text with special tokens' strings treated as ordinary text (tiktoken's <c>encode_ordinary</c>).</summary>
    public int[] EncodeOrdinary(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 16);
        EncodeOrdinary(text, ids);
        return [.. ids];
    }

    void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids)
    {
        foreach (var (start, length) in PreTokenizer.Pieces(text))
        {
            var piece = text.Slice(start, length);
            if (cacheLookup.TryGetValue(piece, out var cached)) ids.AddRange(cached);
            else ids.AddRange(EncodePiece(piece));
        }
    }

    int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(piece.Length);
        byte[]? rentedBytes = null;
        int[]? rentedIds = null;
        var bytes = maxBytes <= 512 ? stackalloc byte[512] : (rentedBytes = ArrayPool<byte>.Shared.Rent(maxBytes));
        var ids = maxBytes <= 512 ? stackalloc int[512] : (rentedIds = ArrayPool<int>.Shared.Rent(maxBytes));
        try
        {
            var byteCount = Encoding.UTF8.GetBytes(piece, bytes);
            var tokens = ids[..BytePairMerge.Encode(bytes[..byteCount], Vocabulary, ids)].ToArray();
            if (piece.Length <= CachedLength)
            {
                if (Interlocked.Increment(ref cacheCount) > CacheLimit)
                {
                    cache.Clear();
                    Interlocked.Exchange(ref cacheCount, 0);
                }
                cacheLookup.TryAdd(piece, tokens);
            }
            return tokens;
        }
        finally
        {
            if (rentedBytes is not null) ArrayPool<byte>.Shared.Return(rentedBytes);
            if (rentedIds is not null) ArrayPool<int>.Shared.Return(rentedIds);
        }
    }

    /// <summary>The text back; bytes that are not valid UTF-8 (a token sequence cut mid-character) become U+FFFD, as in tiktoken.</summary>
    public string Decode(IReadOnlyList<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    public byte[] DecodeBytes(IReadOnlyList<int> ids) => TokenBytes.Concat(ids, Vocabulary, specialBytes);

    /// <summary>The bytes of one token, special or not.</summary>
    public ReadOnlySpan<byte> BytesOf(int id) =>
        specialBytes.TryGetValue(id, out var special) ? special : Vocabulary.BytesOf(id);

    public bool IsSpecial(int id) => specialBytes.ContainsKey(id);

    /// <summary>The tokens of a text with their places in its UTF-8 bytes, for showing token boundaries.</summary>
    public IReadOnlyList<TokenPiece> Tokenize(string text, IEnumerable<string>? allowedSpecial = null)
    {
        var pieces = new List<TokenPiece>();
        var at = 0;
        foreach (var id in Encode(text, allowedSpecial))
        {
            var bytes = BytesOf(id);
            pieces.Add(new TokenPiece(id, at, bytes.Length, TokenizerViews.TokenText(bytes), IsSpecial(id)));
            at += bytes.Length;
        }
        return pieces;
    }

    /// <summary>Saves in our readable format (<see cref="BpeModelFile"/>): pattern, special tokens, merges.</summary>
    public void Save(string path) => BpeModelFile.Write(path, Pattern, specialTokens, Vocabulary);

    public static RegexBpeTokenizer Load(string path)
    {
        var contents = BpeModelFile.Read(path);
        if (contents.Pattern is null)
            throw new InvalidDataException($"{path}: this model has no pattern (a basic BPE); load it with BpeTokenizer.Load.");
        return new RegexBpeTokenizer(BpeVocabulary.FromMerges(contents.Merges, path), contents.Pattern, contents.SpecialTokens,
            Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Saves the ranks as a tiktoken file. The pattern and the special tokens are not part of that format.</summary>
    public void SaveTiktoken(string path) => TiktokenFile.Write(path, Vocabulary);

    /// <summary>Loads a tiktoken rank file; the pattern and special tokens must be given, as tiktoken's <c>Encoding</c> takes them.</summary>
    public static RegexBpeTokenizer LoadTiktoken(string path, string pattern, IReadOnlyDictionary<string, int>? specialTokens = null, string? name = null) =>
        new(BpeVocabulary.FromRanks(TiktokenFile.Read(path), path), pattern, specialTokens, name ?? Path.GetFileNameWithoutExtension(path));
}
