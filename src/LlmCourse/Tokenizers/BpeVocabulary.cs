using System.Globalization;
using System.Text;

namespace LlmCourse.Tokenizers;

/// <summary>
/// The token table of a byte-level BPE: the bytes of every token id, and the lookups that encoding
/// needs. An id is also the token's rank: when encoding, of all adjacent parts whose concatenation
/// is a token, the one with the lowest id is merged first (tiktoken's rule, which is GPT-2's).
/// A trained vocabulary has the 256 bytes as ids 0-255 and merge i as id 256 + i; GPT-2's ranks
/// order the bytes differently, and may skip ids (a rank file need not be dense).
/// </summary>
public sealed class BpeVocabulary
{
    readonly byte[]?[] tokens;                 // id -> bytes; null where no token has that id
    readonly Dictionary<byte[], int> ids;      // bytes -> id
    readonly PairTable pairs;                  // (left id, right id) -> id of their concatenation
    readonly int[] byteIds = new int[256];     // byte value -> id of the one-byte token
    BpeMerge[]? merges;

    BpeVocabulary(byte[]?[] tokens, BpeMerge[]? merges, string source)
    {
        this.tokens = tokens;
        this.merges = merges;
        ids = new Dictionary<byte[], int>(tokens.Length, ByteSequenceComparer.Instance);
        for (var id = 0; id < tokens.Length; id++)
        {
            var bytes = tokens[id];
            if (bytes is null) continue;
            if (bytes.Length == 0) throw new InvalidDataException($"{source}: token {id} has no bytes.");
            if (!ids.TryAdd(bytes, id))
                throw new InvalidDataException($"{source}: tokens {ids[bytes]} and {id} have the same bytes {Display(bytes)}.");
        }
        for (var b = 0; b < 256; b++)
            if (!ids.TryGetValue([(byte)b], out byteIds[b]))
                throw new InvalidDataException(
                    $"{source}: byte 0x{b:X2} has no token of its own, so some texts could not be encoded (a byte-level BPE needs all 256).");

        // Every way of cutting a token into two tokens is a pair that merges into it, not only the
        // pair training chose: tiktoken looks up the concatenated bytes, so this table must too.
        var pairIds = new Dictionary<long, int>(tokens.Length * 4, PairKeyComparer.Instance);
        var lookup = ids.GetAlternateLookup<ReadOnlySpan<byte>>();
        for (var id = 0; id < tokens.Length; id++)
        {
            var bytes = tokens[id];
            if (bytes is null || bytes.Length < 2) continue;
            for (var cut = 1; cut < bytes.Length; cut++)
                if (lookup.TryGetValue(bytes.AsSpan(0, cut), out var left) && lookup.TryGetValue(bytes.AsSpan(cut), out var right))
                    pairIds[BpeMerge.PairKey(left, right)] = id;
        }
        pairs = new PairTable(pairIds);
    }

    /// <summary>The 256 bytes as ids 0-255, then one token per merge, in order (ids 256, 257, …).</summary>
    public static BpeVocabulary FromMerges(IReadOnlyList<BpeMerge> merges, string source = "merges")
    {
        var tokens = new byte[]?[256 + merges.Count];
        for (var b = 0; b < 256; b++) tokens[b] = [(byte)b];
        for (var i = 0; i < merges.Count; i++)
        {
            var (left, right, id) = merges[i];
            if (id != 256 + i)
                throw new InvalidDataException($"{source}: merge {i} makes token {id}; merges make ids 256, 257, … in order, so it should be {256 + i}.");
            if ((uint)left >= (uint)id || (uint)right >= (uint)id)
                throw new InvalidDataException($"{source}: merge {i} ({left}, {right}) uses a token that does not exist before id {id}.");
            tokens[id] = [.. tokens[left]!, .. tokens[right]!];
        }
        return new BpeVocabulary(tokens, merges.ToArray(), source);
    }

    /// <summary>Tokens given by rank: <c>tokensByRank[r]</c> is the bytes of rank r, or null when no token has rank r.</summary>
    public static BpeVocabulary FromRanks(IReadOnlyList<byte[]?> tokensByRank, string source = "ranks") =>
        new(tokensByRank.ToArray(), null, source);

    /// <summary>One more than the largest id (ids may have gaps in a rank file).</summary>
    public int Count => tokens.Length;

    /// <summary>How many ids have a token.</summary>
    public int TokenCount => ids.Count;

    public bool Contains(int id) => (uint)id < (uint)tokens.Length && tokens[id] is not null;

    public ReadOnlySpan<byte> BytesOf(int id) =>
        (uint)id < (uint)tokens.Length && tokens[id] is { } bytes ? bytes
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in the vocabulary (ids 0 to {tokens.Length - 1}).");

    public bool TryGetId(ReadOnlySpan<byte> bytes, out int id) => ids.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(bytes, out id);

    /// <summary>The id of a one-byte token.</summary>
    public int IdOfByte(byte value) => byteIds[value];

    /// <summary>True when byte b is token b, as in every vocabulary trained here (not in GPT-2's).</summary>
    public bool BytesAreIdentity => Enumerable.Range(0, 256).All(b => byteIds[b] == b);

    /// <summary>The id the pair merges into, or <see cref="int.MaxValue"/> when the pair is no token (so it never wins a minimum).</summary>
    internal int MergedId(int left, int right) => pairs.Get(left, right);

    internal ReadOnlySpan<int> ByteIds => byteIds;

    /// <summary>
    /// The merges in rank order. A trained vocabulary knows them; for a rank file they are recovered
    /// as minbpe does: encoding a token's bytes with only the ranks below its own leaves exactly the
    /// two parts it was merged from.
    /// </summary>
    public IReadOnlyList<BpeMerge> Merges => merges ??= RecoverMerges();

    BpeMerge[] RecoverMerges()
    {
        var recovered = new List<BpeMerge>();
        for (var id = 0; id < tokens.Length; id++)
        {
            if (tokens[id] is not { Length: > 1 } bytes) continue;
            var parts = BytePairMerge.Reference(bytes, this, maxRank: id);
            if (parts.Count == 2) recovered.Add(new BpeMerge(parts[0], parts[1], id));
        }
        return recovered.ToArray();
    }

    /// <summary>A token as a reader can see it (see <see cref="Display(ReadOnlySpan{byte})"/>).</summary>
    public string Display(int id) => Display(BytesOf(id));

    /// <summary>
    /// Bytes as a reader can see them: valid UTF-8 as text, with control characters escaped
    /// (<c>\n</c>, <c>\u0000</c>), and bytes that are not (yet) a whole character as <c>\xE2</c>.
    /// </summary>
    public static string Display(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                if (Rune.IsControl(rune))
                    text.Append(rune.Value switch
                    {
                        '\n' => "\\n",
                        '\r' => "\\r",
                        '\t' => "\\t",
                        _ => string.Create(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}"),
                    });
                else text.Append(rune.ToString());
            }
            else
            {
                for (var i = 0; i < consumed; i++) text.Append(CultureInfo.InvariantCulture, $"\\x{bytes[i]:X2}");
            }
            bytes = bytes[consumed..];
        }
        return text.ToString();
    }
}
