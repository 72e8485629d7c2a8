namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Size-bucketed pool of host buffers, so that a training step reuses the previous step's memory
/// instead of asking the garbage collector for fresh (often large-object-heap) arrays.
/// Buckets: four per power of two (s, 1.25 s, 1.5 s, 1.75 s), so a rounded-up buffer wastes at most 25%.
/// Thread-safe; bounded by <see cref="MaxRetainedBytes"/>.
/// </summary>
internal static class CpuMemoryPool
{
    const int MinBytes = 64;
    const int BucketCount = 4 * 32;
    // Large unscoped buffers (parameters, optimizer state) are allocated at their exact size: they
    // live long, and rounding a 150 MB embedding up by 25% would waste real memory.
    const int ExactThreshold = 1 << 20;

    static readonly Stack<byte[]>[] buckets = CreateBuckets();
    static readonly Lock gate = new();
    static long retainedBytes;

    /// <summary>At most 1 GiB, or an eighth of the memory the GC may use, stays pooled; the rest goes to the GC.</summary>
    public static long MaxRetainedBytes { get; set; } = Math.Min(1L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8);

    public static long RetainedBytes => Interlocked.Read(ref retainedBytes);

    static Stack<byte[]>[] CreateBuckets()
    {
        var result = new Stack<byte[]>[BucketCount];
        for (var i = 0; i < result.Length; i++) result[i] = new Stack<byte[]>();
        return result;
    }

    /// <summary>Size of bucket <paramref name="index"/>: 2^e * (4 + j) / 4 with index = 4e + j.</summary>
    public static long BucketSize(int index) => (1L << (index / 4)) / 4 * (4 + index % 4);

    /// <summary>The smallest bucket whose size is at least <paramref name="bytes"/>.</summary>
    public static int RentIndex(long bytes)
    {
        if (bytes <= MinBytes) bytes = MinBytes;
        var e = 63 - (int)long.LeadingZeroCount(bytes);
        var quarter = 1L << (e - 2);
        var j = (int)((bytes - (1L << e) + quarter - 1) / quarter);
        return 4 * e + j; // j == 4 rolls over to the next power of two by itself
    }

    /// <summary>The largest bucket whose size is at most <paramref name="bytes"/>.</summary>
    public static int ReturnIndex(long bytes)
    {
        var e = 63 - (int)long.LeadingZeroCount(bytes);
        var j = (int)((bytes - (1L << e)) / (1L << (e - 2)));
        return 4 * e + j;
    }

    public static byte[] Rent(int bytes, bool exact)
    {
        var index = RentIndex(bytes);
        lock (gate)
        {
            if (buckets[index].TryPop(out var found))
            {
                retainedBytes -= found.Length;
                return found;
            }
        }
        var size = exact && bytes >= ExactThreshold ? bytes : BucketSize(index);
        if (size > Array.MaxLength) size = bytes;
        return GC.AllocateUninitializedArray<byte>((int)size);
    }

    public static void Return(byte[] buffer)
    {
        if (buffer.Length < MinBytes) return;
        var index = ReturnIndex(buffer.Length);
        lock (gate)
        {
            if (retainedBytes + buffer.Length > MaxRetainedBytes) return; // let the GC have it
            buckets[index].Push(buffer);
            retainedBytes += buffer.Length;
        }
    }

    /// <summary>Drops every pooled buffer (tests; or to give memory back after a large run).</summary>
    public static void Clear()
    {
        lock (gate)
        {
            foreach (var b in buckets) b.Clear();
            retainedBytes = 0;
        }
    }
}
