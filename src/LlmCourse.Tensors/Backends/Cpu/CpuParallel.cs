using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>A range of work a kernel hands to <see cref="CpuParallel.For"/>.</summary>
internal interface IRangeBody
{
    void Run(long start, long end);
}

/// <summary>
/// Deterministic data parallelism for the CPU kernels, on the same worker pool as the GEMM
/// (<see cref="KernelThreads"/>: one pool, never more busy threads than cores). Work [0, count) is cut
/// into chunks whose size depends only on the problem (never on the number of threads or on timing);
/// each chunk is run by one thread and any cross-chunk combination is done by the caller in chunk
/// order. So the bits are the same run after run, with 1 thread or 16.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Threads used (the caller included): as many as the shared pool has (<see cref="KernelThreads.MaxThreads"/>,
    /// the one place the thread setting is read); tests may lower it.</summary>
    public static int Threads { get; set; } = KernelThreads.MaxThreads;

    /// <summary>Number of chunks of <paramref name="chunk"/> items over <paramref name="count"/> items.</summary>
    public static long ChunkCount(long count, long chunk) => (count + chunk - 1) / chunk;

    /// <summary>
    /// Runs <paramref name="work"/> over [0, count) in chunks of <paramref name="chunk"/> items (the last
    /// may be shorter). Chunk c covers [c*chunk, min((c+1)*chunk, count)).
    /// </summary>
    public static void For(long count, long chunk, IRangeBody work)
    {
        if (count <= 0) return;
        var chunks = ChunkCount(count, chunk);
        if (chunks == 1 || Threads == 1)
        {
            work.Run(0, count);
            return;
        }
        KernelThreads.Run(new Chunks(work, count, chunk), (int)chunks, Threads);
    }

    sealed class Chunks(IRangeBody work, long count, long chunk) : IParallelTasks
    {
        public void Execute(int task) => work.Run(task * chunk, Math.Min(count, (task + 1) * chunk));
    }

    /// <summary>Chooses a chunk size that gives each thread several pieces of at least <paramref name="minChunk"/> items.</summary>
    /// <remarks>
    /// Rounded up to a multiple of <paramref name="minChunk"/>, so that element-wise kernels cut a chunk
    /// into the same blocks as a serial run would (a vectorised function of a short tail can differ in
    /// the last bit from the same element inside a full vector).
    /// </remarks>
    public static long Grain(long count, long minChunk)
    {
        var chunk = Math.Max(minChunk, count / (Threads * 4L));
        return (chunk + minChunk - 1) / minChunk * minChunk;
    }
}
