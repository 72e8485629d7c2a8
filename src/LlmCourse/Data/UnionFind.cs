namespace LlmCourse.Data;

/// <summary>
/// Disjoint sets over 0..n−1 with path halving and union by size: near-duplicate pairs (a, b) and
/// (b, c) put a, b and c in one cluster even when a and c were never paired.
/// </summary>
public sealed class UnionFind
{
    readonly int[] parent, size;

    public UnionFind(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        parent = Enumerable.Range(0, count).ToArray();
        size = Enumerable.Repeat(1, count).ToArray();
    }

    public int Count => parent.Length;

    public int Find(int x)
    {
        while (parent[x] != x)
        {
            parent[x] = parent[parent[x]];   // path halving
            x = parent[x];
        }
        return x;
    }

    /// <summary>Merges the sets of x and y; false when they were already one.</summary>
    public bool Union(int x, int y)
    {
        int rx = Find(x), ry = Find(y);
        if (rx == ry) return false;
        if (size[rx] < size[ry]) (rx, ry) = (ry, rx);
        parent[ry] = rx;
        size[rx] += size[ry];
        return true;
    }

    /// <summary>The clusters with more than one member, each sorted, ordered by their first member.</summary>
    public IReadOnlyList<int[]> Clusters() =>
        Enumerable.Range(0, Count).GroupBy(Find).Where(g => g.Count() > 1).Select(g => g.Order().ToArray()).OrderBy(c => c[0]).ToArray();
}
