using System.Text;

namespace LlmCourse.Data;

/// <summary>
/// MinHash signatures (Broder 1997): a document becomes its set of word <c>n</c>-grams
/// ("shingles", on the normal form), and each of <see cref="HashCount"/> random hash functions
/// keeps the smallest value it gives any shingle. For two sets A and B, one function's minimum is
/// the same with probability exactly their Jaccard similarity |A∩B| / |A∪B|, so the fraction of
/// equal positions in two signatures estimates it, with standard error √(J(1−J)/k) for k functions.
/// FineWeb's settings are the defaults: 5-grams, 112 functions.
/// </summary>
public sealed class MinHash
{
    /// <summary>The Mersenne prime 2⁶¹ − 1: the hash functions are (a·x + b) mod p, a universal family.</summary>
    const ulong Prime = (1UL << 61) - 1;

    readonly ulong[] a, b;

    public MinHash(int hashCount = 112, int shingleSize = 5, ulong seed = 42)
    {
        if (hashCount < 1) throw new ArgumentOutOfRangeException(nameof(hashCount), hashCount, "MinHash: at least one hash function.");
        if (shingleSize < 1) throw new ArgumentOutOfRangeException(nameof(shingleSize), shingleSize, "MinHash: shingles of at least one word.");
        HashCount = hashCount;
        ShingleSize = shingleSize;
        a = new ulong[hashCount];
        b = new ulong[hashCount];
        var state = seed;
        for (var i = 0; i < hashCount; i++)
        {
            a[i] = 1 + SplitMix(ref state) % (Prime - 1);   // a ≠ 0, or the function would be constant
            b[i] = SplitMix(ref state) % Prime;
        }
    }

    public int HashCount { get; }
    public int ShingleSize { get; }

    /// <summary>The set of 64-bit hashes of the document's word <see cref="ShingleSize"/>-grams after normalization.
    /// A document shorter than one shingle is one shingle of all its words.</summary>
    public HashSet<ulong> Shingles(string text)
    {
        var words = TextNormalizer.NormalizedWords(text);
        var shingles = new HashSet<ulong>();
        if (words.Length == 0) return shingles;
        if (words.Length < ShingleSize) { shingles.Add(Fnv1a(string.Join(' ', words))); return shingles; }
        for (var i = 0; i + ShingleSize <= words.Length; i++)
            shingles.Add(Fnv1a(string.Join(' ', words, i, ShingleSize)));
        return shingles;
    }

    /// <summary>The signature: for each hash function, its minimum over the shingles (all ones for an empty document).</summary>
    public ulong[] Signature(string text) => Signature(Shingles(text));

    public ulong[] Signature(IEnumerable<ulong> shingles)
    {
        var signature = new ulong[HashCount];
        Array.Fill(signature, ulong.MaxValue);
        foreach (var shingle in shingles)
        {
            var x = shingle % Prime;
            for (var i = 0; i < HashCount; i++)
            {
                var h = ModPrime(((UInt128)a[i] * x) + b[i]);
                if (h < signature[i]) signature[i] = h;
            }
        }
        return signature;
    }

    /// <summary>The fraction of positions where two signatures agree: an unbiased estimate of the Jaccard similarity.</summary>
    public static double EstimatedJaccard(ulong[] first, ulong[] second)
    {
        if (first.Length != second.Length)
            throw new ArgumentException($"MinHash.EstimatedJaccard: signatures of {first.Length} and {second.Length} hashes; use the same MinHash for both.");
        var equal = 0;
        for (var i = 0; i < first.Length; i++) if (first[i] == second[i]) equal++;
        return (double)equal / first.Length;
    }

    /// <summary>The exact Jaccard similarity |A∩B| / |A∪B| (1 for two empty sets).</summary>
    public static double Jaccard(IReadOnlySet<ulong> first, IReadOnlySet<ulong> second)
    {
        if (first.Count == 0 && second.Count == 0) return 1;
        var intersection = first.Count(second.Contains);
        return (double)intersection / (first.Count + second.Count - intersection);
    }

    /// <summary>z mod (2⁶¹ − 1) without a division: 2⁶¹ ≡ 1, so the high bits fold onto the low ones.</summary>
    static ulong ModPrime(UInt128 z)
    {
        var r = (ulong)(z & Prime) + (ulong)(z >> 61);   // z < 2¹²³, so z >> 61 fits in 62 bits
        r = (r & Prime) + (r >> 61);
        return r >= Prime ? r - Prime : r;
    }

    static ulong Fnv1a(string s)
    {
        var hash = 14695981039346656037UL;
        foreach (var by in Encoding.UTF8.GetBytes(s)) { hash ^= by; hash *= 1099511628211UL; }
        return Finalise(hash);
    }

    static ulong SplitMix(ref ulong state) => Finalise(state += 0x9E3779B97F4A7C15UL);

    /// <summary>SplitMix64's finaliser: spreads FNV's weak low bits over all 64.</summary>
    static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
