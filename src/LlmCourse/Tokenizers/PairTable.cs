using System.Runtime.CompilerServices;

namespace LlmCourse.Tokenizers;

/// <summary>
/// A read-only map from a pair of token ids to the id they merge into, built for the merge loop's
/// lookups: open addressing with linear probing in one array, and a multiplicative hash of both ids.
/// (A <c>Dictionary&lt;long, int&gt;</c> hashes a long as <c>high ^ low</c>, which for id pairs under
/// 65,536 leaves 65,536 hash values for hundreds of thousands of pairs.)
/// </summary>
sealed class PairTable
{
    const long Empty = -1;
    readonly long[] keys;
    readonly int[] values;
    readonly int shift;

    public PairTable(IReadOnlyCollection<KeyValuePair<long, int>> entries)
    {
        var capacity = 16;
        while (capacity < entries.Count * 2) capacity *= 2; // load factor at most 1/2
        keys = new long[capacity];
        values = new int[capacity];
        Array.Fill(keys, Empty);
        shift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
        foreach (var (key, value) in entries)
        {
            var slot = Slot(key);
            while (keys[slot] != Empty && keys[slot] != key) slot = (slot + 1) & (keys.Length - 1);
            keys[slot] = key;
            values[slot] = value;
        }
    }

    public int Count => keys.Count(k => k != Empty);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int Slot(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> shift);

    /// <summary>The merged id, or <see cref="int.MaxValue"/> when the pair merges into nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Get(int left, int right)
    {
        var key = BpeMerge.PairKey(left, right);
        var mask = keys.Length - 1;
        for (var slot = Slot(key); ; slot = (slot + 1) & mask)
        {
            var found = keys[slot];
            if (found == key) return values[slot];
            if (found == Empty) return int.MaxValue;
        }
    }
}

/// <summary>Hashes a pair key so that both ids spread over all bits (see <see cref="PairTable"/>).</summary>
sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static readonly PairKeyComparer Instance = new();

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> 32);
}
