using LlmCourse.Tensors.Backends.Cuda.Native;
namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// A caching allocator, PyTorch's idea in its simplest form: a freed block goes to a free list keyed by
/// its rounded size instead of back to the driver, and the next request of that size reuses it, so a
/// training loop that allocates the same shapes every step stops calling cuMemAlloc after its first
/// step and its reserved memory stays flat. One stream per device, so a block reused by a later kernel
/// is ordered after every kernel that used it before. Sizes round up to 512 bytes (up to 1 MiB) or to
/// 2 MiB. On out-of-memory it collects garbage (tensors without a scope are freed by their finalizers),
/// retries, then returns every cached block to the driver and retries, then throws naming the request
/// and what is held. Thread-safe (finalizers return blocks from the finalizer thread).
/// </summary>
internal sealed class CudaAllocator(CudaDevice device)
{
    const long SmallLimit = 1 << 20, SmallRound = 512, LargeRound = 2 << 20;

    readonly Lock gate = new();
    readonly Dictionary<long, Stack<ulong>> free = [];
    long allocated, reserved, peakAllocated, peakReserved, cached;

    public static long RoundSize(long bytes)
    {
        if (bytes <= 0) return SmallRound;
        var round = bytes <= SmallLimit ? SmallRound : LargeRound;
        return (bytes + round - 1) / round * round;
    }

    /// <summary>A block of at least <paramref name="bytes"/>; <paramref name="size"/> is its rounded size, to give back.</summary>
    public ulong Allocate(long bytes, out long size)
    {
        size = RoundSize(bytes);
        if (TryReuse(size, out var pointer)) return pointer;
        device.MakeCurrent();
        var status = CudaDriver.TryAlloc(size, out pointer);
        if (status == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY)
        {
            // Tensors made outside any TensorScope are freed by the garbage collector: run it, then retry.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (TryReuse(size, out pointer)) return pointer;
            EmptyCache();
            status = CudaDriver.TryAlloc(size, out pointer);
        }
        if (status == CudaDriver.CUDA_ERROR_OUT_OF_MEMORY) throw OutOfMemory(bytes);
        CudaDriver.Check(status, $"cuMemAlloc_v2({size} bytes)");
        lock (gate)
        {
            reserved += size;
            allocated += size;
            peakReserved = Math.Max(peakReserved, reserved);
            peakAllocated = Math.Max(peakAllocated, allocated);
        }
        return pointer;
    }

    bool TryReuse(long size, out ulong pointer)
    {
        lock (gate)
        {
            if (free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                pointer = stack.Pop();
                cached -= size;
                allocated += size;
                peakAllocated = Math.Max(peakAllocated, allocated);
                return true;
            }
        }
        pointer = 0;
        return false;
    }

    /// <summary>Back to the free list (never to the driver): safe from a finalizer.</summary>
    public void Free(ulong pointer, long size)
    {
        lock (gate)
        {
            if (!free.TryGetValue(size, out var stack)) free[size] = stack = new Stack<ulong>();
            stack.Push(pointer);
            allocated -= size;
            cached += size;
        }
    }

    /// <summary>Returns every cached (unused) block to the driver, after the stream's work is done.</summary>
    public void EmptyCache()
    {
        List<(ulong Pointer, long Size)> blocks;
        lock (gate)
        {
            blocks = [.. free.SelectMany(kv => kv.Value.Select(p => (p, kv.Key)))];
            free.Clear();
            cached = 0;
        }
        if (blocks.Count == 0) return;
        device.WaitIdle();
        foreach (var (pointer, size) in blocks)
        {
            CudaDriver.Check(CudaDriver.Free(pointer), "cuMemFree_v2");
            lock (gate) reserved -= size;
        }
    }

    public CudaMemoryStats Stats()
    {
        device.MakeCurrent();
        var (deviceFree, deviceTotal) = CudaDriver.MemoryInfo();
        lock (gate) return new CudaMemoryStats(allocated, reserved, peakAllocated, peakReserved, deviceFree, deviceTotal);
    }

    public void ResetPeak()
    {
        lock (gate)
        {
            peakAllocated = allocated;
            peakReserved = reserved;
        }
    }

    CudaException OutOfMemory(long bytes)
    {
        var (deviceFree, deviceTotal) = CudaDriver.MemoryInfo();
        long a, r;
        lock (gate) (a, r) = (allocated, reserved);
        return new CudaException(
            $"CUDA out of memory on {device.Name}: tried to allocate {Format(bytes)}; {Format(a)} allocated by tensors, " +
            $"{Format(r)} reserved by the caching allocator, {Format(deviceFree)} free of {Format(deviceTotal)} on the GPU. " +
            "Use a smaller batch or block size, autocast (bf16 halves activations' precision, not yet their memory), " +
            "or free memory held elsewhere on the GPU (another process, or tensors you still reference).");
    }

    internal static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        _ => $"{bytes} bytes",
    };
}
