namespace LlmCourse.Tokenizers;

/// <summary>
/// Encoding one pre-token (a "piece" of bytes) with a vocabulary. The rule is tiktoken's: start from
/// one part per byte; while some two adjacent parts concatenate to a token, merge the pair whose
/// token has the lowest rank (id), the leftmost such pair on a tie; the parts left are the tokens.
/// <see cref="Reference"/> is that rule written plainly; <see cref="Encode"/> gives the same ids fast.
/// </summary>
public static class BytePairMerge
{
    /// <summary>Above this many bytes, the quadratic scan gives way to a heap (long runs of one character).</summary>
    const int ShortPiece = 128;

    /// <summary>The rule as stated, on lists of byte strings: slow and obviously right. Only ranks below <paramref name="maxRank"/> may merge.</summary>
    public static List<int> Reference(ReadOnlySpan<byte> piece, BpeVocabulary vocabulary, int maxRank = int.MaxValue)
    {
        var parts = new List<byte[]>();
        foreach (var b in piece) parts.Add([b]);
        while (parts.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (var i = 0; i < parts.Count - 1; i++)
            {
                byte[] pair = [.. parts[i], .. parts[i + 1]];
                if (vocabulary.TryGetId(pair, out var rank) && rank < maxRank && rank < bestRank) (best, bestRank) = (i, rank);
            }
            if (best < 0) break;
            parts[best] = [.. parts[best], .. parts[best + 1]];
            parts.RemoveAt(best + 1);
        }
        return parts.Select(p => vocabulary.TryGetId(p, out var id) ? id : throw new InvalidOperationException("unreachable: every byte is a token")).ToList();
    }

    /// <summary>
    /// Writes the piece's token ids into <paramref name="ids"/> (which needs room for one id per byte)
    /// and returns how many there are.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> piece, BpeVocabulary vocabulary, Span<int> ids)
    {
        var n = piece.Length;
        if (ids.Length < n) throw new ArgumentException($"BytePairMerge.Encode: room for {ids.Length} ids, the piece has {n} bytes.", nameof(ids));
        var byteIds = vocabulary.ByteIds;
        for (var i = 0; i < n; i++) ids[i] = byteIds[piece[i]];
        if (n < 2) return n;
        return n <= ShortPiece ? MergeShort(ids[..n], vocabulary) : MergeLong(ids[..n], vocabulary);
    }

    /// <summary>
    /// Short pieces (almost all of them): <c>ranks[i]</c> is what parts i and i+1 would merge into;
    /// each step finds the minimum, merges, and shifts the tails left. Quadratic, but n is a word.
    /// </summary>
    static int MergeShort(Span<int> ids, BpeVocabulary vocabulary)
    {
        var n = ids.Length;
        Span<int> ranks = stackalloc int[ShortPiece];
        for (var i = 0; i < n - 1; i++) ranks[i] = vocabulary.MergedId(ids[i], ids[i + 1]);
        while (n > 1)
        {
            int at = -1, min = int.MaxValue;
            for (var i = 0; i < n - 1; i++)
                if (ranks[i] < min) (min, at) = (ranks[i], i);
            if (at < 0) break;

            ids[at] = min;
            ids.Slice(at + 2, n - at - 2).CopyTo(ids[(at + 1)..]);
            if (at + 2 < n - 1) ranks.Slice(at + 2, n - at - 3).CopyTo(ranks[(at + 1)..]);
            n--;
            ranks[at] = at + 1 < n ? vocabulary.MergedId(ids[at], ids[at + 1]) : int.MaxValue;
            if (at > 0) ranks[at - 1] = vocabulary.MergedId(ids[at - 1], ids[at]);
        }
        return n;
    }

    /// <summary>
    /// Long pieces: parts in a linked list, candidate merges in a heap ordered by (rank, position).
    /// Entries go stale when a neighbour merges; a stale one is recognised because the pair now at
    /// its position merges into a different rank, and is skipped. O(n log n).
    /// </summary>
    static int MergeLong(Span<int> ids, BpeVocabulary vocabulary)
    {
        var n = ids.Length;
        var next = new int[n];
        var prev = new int[n];
        for (var i = 0; i < n; i++) (prev[i], next[i]) = (i - 1, i + 1 < n ? i + 1 : -1);
        var alive = new bool[n];
        Array.Fill(alive, true);
        var heap = new PriorityQueue<int, long>(n);
        static long Priority(int rank, int position) => ((long)rank << 32) | (uint)position;
        for (var i = 0; i < n - 1; i++)
        {
            var rank = vocabulary.MergedId(ids[i], ids[i + 1]);
            if (rank != int.MaxValue) heap.Enqueue(i, Priority(rank, i));
        }

        while (heap.TryDequeue(out var at, out var priority))
        {
            var rank = (int)(priority >> 32);
            if (!alive[at] || next[at] < 0 || vocabulary.MergedId(ids[at], ids[next[at]]) != rank) continue;

            var gone = next[at];
            ids[at] = rank;
            alive[gone] = false;
            next[at] = next[gone];
            if (next[at] >= 0) prev[next[at]] = at;

            if (next[at] >= 0 && vocabulary.MergedId(ids[at], ids[next[at]]) is var right and not int.MaxValue)
                heap.Enqueue(at, Priority(right, at));
            if (prev[at] >= 0 && vocabulary.MergedId(ids[prev[at]], ids[at]) is var left and not int.MaxValue)
                heap.Enqueue(prev[at], Priority(left, prev[at]));
        }

        var count = 0;
        for (var i = 0; i >= 0; i = next[i]) ids[count++] = ids[i];
        return count;
    }
}
