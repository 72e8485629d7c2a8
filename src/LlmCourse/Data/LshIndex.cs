namespace LlmCourse.Data;

/// <summary>
/// Locality-sensitive hashing over MinHash signatures: the signature is cut into
/// <see cref="Bands"/> bands of <see cref="Rows"/> values, and two documents become a candidate pair
/// when all the values of at least one band agree. For Jaccard similarity s that happens with
/// probability 1 − (1 − sʳ)ᵇ, an S-curve: FineWeb's 14 bands of 8 catch 56%, 77%, 92% and 99% of
/// pairs at s = 0.70, 0.75, 0.80, 0.85, and almost none below 0.5, without comparing every pair.
/// </summary>
public sealed class LshIndex
{
    readonly Dictionary<(int Band, UInt128 Key), List<int>> buckets = [];
    readonly HashSet<(int, int)> pairs = [];

    public LshIndex(int bands = 14, int rows = 8)
    {
        if (bands < 1 || rows < 1) throw new ArgumentOutOfRangeException(nameof(bands), $"LshIndex: {bands} bands of {rows} rows; both must be positive.");
        Bands = bands;
        Rows = rows;
    }

    public int Bands { get; }
    public int Rows { get; }

    /// <summary>The probability that two documents of Jaccard similarity <paramref name="similarity"/> share a band: 1 − (1 − sʳ)ᵇ.</summary>
    public static double DetectionProbability(double similarity, int bands = 14, int rows = 8) =>
        1 - Math.Pow(1 - Math.Pow(similarity, rows), bands);

    /// <summary>Files document <paramref name="id"/>; returns the earlier documents it shares a band with.</summary>
    public IReadOnlyList<int> Add(int id, ulong[] signature)
    {
        if (signature.Length < Bands * Rows)
            throw new ArgumentException($"LshIndex.Add: a signature of {signature.Length} hashes is too short for {Bands} bands of {Rows} rows ({Bands * Rows}).");
        var candidates = new List<int>();
        for (var band = 0; band < Bands; band++)
        {
            var key = BandKey(signature.AsSpan(band * Rows, Rows));
            if (!buckets.TryGetValue((band, key), out var members)) buckets[(band, key)] = members = [];
            foreach (var other in members)
                if (other != id && pairs.Add((Math.Min(other, id), Math.Max(other, id)))) candidates.Add(other);
            members.Add(id);
        }
        return candidates;
    }

    /// <summary>Every candidate pair found so far, (smaller id, larger id).</summary>
    public IReadOnlyCollection<(int, int)> CandidatePairs => pairs;

    /// <summary>The band's values folded into 128 bits (two independent 64-bit mixes), so different bands practically never collide.</summary>
    static UInt128 BandKey(ReadOnlySpan<ulong> values)
    {
        ulong h1 = 0x243F6A8885A308D3UL, h2 = 0x13198A2E03707344UL;
        foreach (var v in values)
        {
            h1 = (h1 ^ v) * 0x100000001B3UL;
            h1 ^= h1 >> 29;
            h2 = (h2 + v) * 0x9E3779B97F4A7C15UL;
            h2 ^= h2 >> 31;
        }
        return new UInt128(h1, h2);
    }
}
