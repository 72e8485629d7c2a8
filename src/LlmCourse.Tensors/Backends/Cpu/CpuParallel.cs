namespace LlmCourse.Tensors.Backends;

/// <summary>A range of work a kernel hands to <see cref="CpuParallel.For"/>.</summary>
internal interface IRangeBody
{
    void Run(long start, long end);
}

/// <summary>
/// Deterministic data parallelism for the CPU kernels. Work [0, count) is cut into chunks whose size
/// depends only on the problem (never on the number of threads or on timing), each chunk is run by
/// exactly one thread, and chunk results are combined by the caller in chunk order. So the bits are
/// the same run after run, with 1 thread or 16. The calling thread works too; nested or concurrent
/// calls simply run serially.
/// </summary>
internal static class CpuParallel
{
    [ThreadStatic] static bool insideParallel;
    static readonly Lock gate = new();
    static readonly SemaphoreSlim wake = new(0);
    static Worker[]? workers;

    // The job being run (guarded by `gate` for the caller, read by the workers after `wake`).
    static IRangeBody? body;
    static long jobCount, jobChunk, chunkCount;
    static long nextChunk;
    static int pending;
    static Exception? failure;
    static readonly ManualResetEventSlim finished = new(false);

    /// <summary>Threads used (the caller included); <c>LLMCOURSE_THREADS</c> overrides the core count.</summary>
    public static int Threads { get; set; } = ReadThreads();

    static int ReadThreads() =>
        int.TryParse(Environment.GetEnvironmentVariable("LLMCOURSE_THREADS"), out var n) && n > 0
            ? n
            : Math.Max(1, Environment.ProcessorCount);

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
        if (chunks == 1 || Threads == 1 || insideParallel || !gate.TryEnter())
        {
            for (long c = 0; c < chunks; c++) work.Run(c * chunk, Math.Min(count, (c + 1) * chunk));
            return;
        }
        try
        {
            EnsureWorkers();
            body = work;
            jobCount = count;
            jobChunk = chunk;
            chunkCount = chunks;
            nextChunk = 0;
            failure = null;
            var helpers = (int)Math.Min(workers!.Length, chunks - 1);
            pending = helpers;
            finished.Reset();
            if (helpers > 0) wake.Release(helpers);
            insideParallel = true;
            try
            {
                RunChunks();
            }
            finally
            {
                insideParallel = false;
            }
            if (helpers > 0) finished.Wait();
            body = null;
            if (failure is not null) throw new AggregateException("A parallel kernel failed.", failure);
        }
        finally
        {
            gate.Exit();
        }
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

    static void RunChunks()
    {
        var work = body!;
        while (true)
        {
            var c = Interlocked.Increment(ref nextChunk) - 1;
            if (c >= chunkCount) return;
            try
            {
                work.Run(c * jobChunk, Math.Min(jobCount, (c + 1) * jobChunk));
            }
            catch (Exception e)
            {
                failure ??= e;
            }
        }
    }

    static void EnsureWorkers()
    {
        if (workers is not null && workers.Length == Threads - 1) return;
        var list = new Worker[Math.Max(0, Threads - 1)];
        for (var i = 0; i < list.Length; i++) list[i] = new Worker(i);
        workers = list;
    }

    sealed class Worker
    {
        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"LlmCourse.Tensors worker {index}" };
            thread.Start();
        }

        static void Loop()
        {
            insideParallel = true;
            while (true)
            {
                wake.Wait();
                RunChunks();
                if (Interlocked.Decrement(ref pending) == 0) finished.Set();
            }
        }
    }
}
