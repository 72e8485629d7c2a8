namespace LlmCourse.Data;

/// <summary>
/// Near-duplicate removal as FineWeb does it: a MinHash signature per document (word 5-grams,
/// 112 hashes), LSH with 14 bands of 8 to find candidate pairs, union-find to merge the pairs into
/// clusters, and one document kept per cluster (the first one met). This stage needs every
/// signature before it can decide, so it buffers the documents (a real pipeline keeps only the
/// signatures and makes a second pass).
/// </summary>
public sealed class NearDedup(MinHash? minHash = null, int bands = 14, int rows = 8) : DocumentStage
{
    public MinHash MinHash { get; } = minHash ?? new MinHash();
    public int Bands { get; } = bands;
    public int Rows { get; } = rows;

    public override string Name => "near dedup (MinHash LSH)";

    /// <summary>The clusters of the last run, as indices into its input.</summary>
    public IReadOnlyList<int[]> LastClusters { get; private set; } = [];

    public override IEnumerable<Document> Process(IEnumerable<Document> documents, StageReport report)
    {
        var all = documents.ToList();
        var index = new LshIndex(Bands, Rows);
        var clusters = new UnionFind(all.Count);
        for (var i = 0; i < all.Count; i++)
            foreach (var other in index.Add(i, MinHash.Signature(all[i].Text)))
                clusters.Union(i, other);
        LastClusters = clusters.Clusters();
        var keeper = new Dictionary<int, int>();   // cluster root → the first document met
        for (var i = 0; i < all.Count; i++)
        {
            var root = clusters.Find(i);
            if (keeper.ContainsKey(root))
            {
                report.Remove(all[i], "near duplicate");
                continue;
            }
            keeper[root] = i;
            yield return all[i];
        }
    }
}
