using System.Runtime.InteropServices;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tokenizers;

/// <summary>One step of training: the merge made and how often its pair occurred when it was chosen.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public readonly record struct BpeTrainingStep(BpeMerge Merge, long Count);

/// <summary>
/// Learns merges from text, as minbpe and tiktoken's educational trainer do: start with bytes; at
/// each step count every adjacent pair of tokens, merge the most frequent pair into a new token
/// everywhere (left to right, so "aaa" becomes "Z a"), and repeat.
///
/// The input is a list of "words" (pre-tokens, or the whole text for the basic tokenizer), each with
/// how many times it occurs; pairs never cross a word boundary.
///
/// Ties: when several pairs are equally frequent, the one with the smallest (left id, right id)
/// wins, as in Hugging Face's tokenizers. (minbpe takes whichever its dictionary met first, which
/// depends on the text's order; a rule on the ids is the same however the counts were reached.)
///
/// <see cref="TrainReference"/> recounts every pair at every step: plain, and slow.
/// <see cref="Train"/> gives the same merges by updating the counts only where a merge happened,
/// with a heap to find the most frequent pair.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The plain algorithm: recount all pairs, merge the best, repeat.</summary>
    public static List<BpeTrainingStep> TrainReference(IReadOnlyList<(byte[] Bytes, long Count)> words, int mergeCount)
    {
        var sequences = words.Select(w => w.Bytes.Select(b => (int)b).ToList()).ToList();
        var steps = new List<BpeTrainingStep>();
        for (var m = 0; m < mergeCount; m++)
        {
            var counts = new Dictionary<(int, int), long>();
            for (var w = 0; w < sequences.Count; w++) AddPairs(sequences[w], words[w].Count, counts);
            if (counts.Count == 0) break;

            var best = MostFrequentFirst.Order(counts).First();
            var merge = new BpeMerge(best.Left, best.Right, 256 + m);
            steps.Add(new BpeTrainingStep(merge, best.Count));
            foreach (var sequence in sequences) Apply(sequence, merge);
        }
        return steps;
    }

    /// <summary>
    /// How often each adjacent pair occurs in a sequence of ids (minbpe's <c>get_stats</c>), most
    /// frequent first, ties in the trainer's order. Overlapping pairs count: "aaa" has "aa" twice.
    /// </summary>
    public static IReadOnlyList<(int Left, int Right, long Count)> PairCounts(IReadOnlyList<int> ids)
    {
        var counts = new Dictionary<(int, int), long>();
        AddPairs(ids, 1, counts);
        return MostFrequentFirst.Order(counts).ToArray();
    }

    static void AddPairs(IReadOnlyList<int> ids, long weight, Dictionary<(int, int), long> counts)
    {
        for (var i = 0; i + 1 < ids.Count; i++)
            CollectionsMarshal.GetValueRefOrAddDefault(counts, (ids[i], ids[i + 1]), out _) += weight;
    }

    /// <summary>Replaces every occurrence of the merge's pair, left to right.</summary>
    public static void Apply(List<int> sequence, BpeMerge merge)
    {
        var write = 0;
        for (var read = 0; read < sequence.Count; read++)
        {
            if (read + 1 < sequence.Count && sequence[read] == merge.Left && sequence[read + 1] == merge.Right)
            {
                sequence[write++] = merge.Id;
                read++;
            }
            else sequence[write++] = sequence[read];
        }
        sequence.RemoveRange(write, sequence.Count - write);
    }

    /// <summary>
    /// The fast trainer. All words' symbols sit in one array, linked to their neighbours within the
    /// word; for every pair we keep its weighted count and the positions where it starts (some of
    /// them stale, checked when used). A merge visits only its pair's positions and adjusts the
    /// counts of the pairs around each one, so a step costs what it changes, not the text's length.
    /// </summary>
    public static List<BpeTrainingStep> Train(IReadOnlyList<(byte[] Bytes, long Count)> words, int mergeCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mergeCount);
        var total = 0;
        foreach (var (bytes, _) in words) total = checked(total + bytes.Length);

        var symbols = new int[total];   // token id at each position; -1 once merged into its left neighbour
        var next = new int[total];      // next position in the same word, or -1
        var prev = new int[total];
        var weight = new long[total];   // how many times the word at this position occurs
        var stats = new Dictionary<long, PairStats>(PairKeyComparer.Instance);
        var position = 0;
        foreach (var (bytes, count) in words)
        {
            if (count <= 0) throw new ArgumentException($"BpeTrainer: a word occurs {count} times; counts must be positive.", nameof(words));
            for (var i = 0; i < bytes.Length; i++, position++)
            {
                symbols[position] = bytes[i];
                weight[position] = count;
                prev[position] = i > 0 ? position - 1 : -1;
                next[position] = i + 1 < bytes.Length ? position + 1 : -1;
                if (i > 0) Stats(stats, symbols[position - 1], bytes[i]).Add(count, position - 1);
            }
        }

        var heap = new PriorityQueue<long, (long Count, long Pair)>(stats.Count, MostFrequentFirst.Instance);
        foreach (var (pair, s) in stats) heap.Enqueue(pair, (s.Count, pair));

        var steps = new List<BpeTrainingStep>(mergeCount);
        var increased = new HashSet<long>();
        while (steps.Count < mergeCount && heap.TryDequeue(out var key, out var entry))
        {
            var best = stats[key];
            if (best.Count <= 0) continue;
            if (best.Count != entry.Count)
            {
                // Stale: the count went down since this entry was queued.
                heap.Enqueue(key, (best.Count, key));
                continue;
            }

            var (left, right) = BpeMerge.FromKey(key);
            var merge = new BpeMerge(left, right, 256 + steps.Count);
            steps.Add(new BpeTrainingStep(merge, best.Count));

            var positions = best.Positions;
            positions.Sort(); // left to right within each word, as Apply does
            foreach (var at in positions)
            {
                var after = next[at];
                if (symbols[at] != left || after < 0 || symbols[after] != right) continue; // stale
                var w = weight[at];
                var before = prev[at];
                var afterAfter = next[after];

                best.Count -= w;
                if (before >= 0) stats[BpeMerge.PairKey(symbols[before], left)].Count -= w;
                if (afterAfter >= 0) stats[BpeMerge.PairKey(right, symbols[afterAfter])].Count -= w;

                symbols[at] = merge.Id;
                symbols[after] = -1;
                next[at] = afterAfter;
                if (afterAfter >= 0) prev[afterAfter] = at;

                if (before >= 0)
                {
                    var pair = BpeMerge.PairKey(symbols[before], merge.Id);
                    Stats(stats, symbols[before], merge.Id).Add(w, before);
                    increased.Add(pair);
                }
                if (afterAfter >= 0)
                {
                    var pair = BpeMerge.PairKey(merge.Id, symbols[afterAfter]);
                    Stats(stats, merge.Id, symbols[afterAfter]).Add(w, at);
                    increased.Add(pair);
                }
            }
            positions.Clear();
            positions.TrimExcess();
            foreach (var pair in increased)
                if (stats[pair].Count > 0) heap.Enqueue(pair, (stats[pair].Count, pair));
            increased.Clear();
        }
        return steps;
    }

    static PairStats Stats(Dictionary<long, PairStats> stats, int left, int right)
    {
        var key = BpeMerge.PairKey(left, right);
        if (!stats.TryGetValue(key, out var s)) stats[key] = s = new PairStats();
        return s;
    }

    sealed class PairStats
    {
        public long Count;
        public readonly List<int> Positions = new(2);

        public void Add(long weight, int position)
        {
            Count += weight;
            Positions.Add(position);
        }
    }

    /// <summary>Highest count first; among equal counts, the smallest (left, right) pair.</summary>
    sealed class MostFrequentFirst : IComparer<(long Count, long Pair)>
    {
        public static readonly MostFrequentFirst Instance = new();

        public int Compare((long Count, long Pair) x, (long Count, long Pair) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);

        public static IEnumerable<(int Left, int Right, long Count)> Order(Dictionary<(int, int), long> counts) =>
            counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key.Item1).ThenBy(c => c.Key.Item2)
                .Select(c => (c.Key.Item1, c.Key.Item2, c.Value));
    }
}
