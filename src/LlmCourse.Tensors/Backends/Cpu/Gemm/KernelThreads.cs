using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// Work that a parallel kernel splits into numbered tasks. <see cref="Execute"/> must not depend on
/// which thread runs a task or in which order tasks run: that is what keeps multi-threaded kernels
/// deterministic (the same bits run after run, whatever the thread count).
/// </summary>
internal interface IParallelTasks
{
    void Execute(int task);
}

/// <summary>
/// The kernels' own worker pool: one thread per core beside the caller, which takes part in the work.
/// Why not Parallel.For: a kernel call on small matrices lasts tens of microseconds, and the pool
/// must start and join in about a microsecond with no allocation. Tasks are claimed from a shared
/// counter, so a core slowed by other processes simply takes fewer tasks. Workers spin briefly after
/// a job (back-to-back matmuls in a training step find them awake), then sleep on an event.
/// A call made while the pool is busy (from another thread, or from inside a task) runs its tasks
/// serially on the calling thread: nesting never deadlocks.
/// </summary>
internal static class KernelThreads
{
    /// <summary>
    /// Threads a kernel may use, the caller included: one per core, or fewer when the environment
    /// variable <c>LLMCOURSE_THREADS</c> says so (it is read once, when the pool starts).
    /// </summary>
    public static int MaxThreads { get; } = ReadMaxThreads();

    public const string ThreadsVariable = "LLMCOURSE_THREADS";

    static int ReadMaxThreads()
    {
        var cores = Math.Max(1, Environment.ProcessorCount);
        var threads = ParseThreads(Environment.GetEnvironmentVariable(ThreadsVariable), cores, out var problem);
        // A warning, not an exception: this runs in a type initializer, where a throw would surface as an
        // unreadable TypeInitializationException on the first tensor op; a wrong thread count costs speed only.
        if (problem is not null) Console.Error.WriteLine($"warning: {problem}");
        return threads;
    }

    /// <summary>
    /// LLMCOURSE_THREADS as a thread count: unset or empty is every core; a whole number ≥ 1 is used, up
    /// to the core count. Anything else (<c>two</c>, <c>0</c>, <c>-1</c>, <c>2.5</c>) is every core, and
    /// <paramref name="problem"/> says what was wrong and what to write instead.
    /// </summary>
    internal static int ParseThreads(string? value, int cores, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(value)) return cores;
        if (int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0)
            return Math.Min(n, cores);
        problem = $"{ThreadsVariable}='{value}' is not a whole number of threads ≥ 1, so all {cores} cores are used. " +
                  $"Set it to a number such as {Math.Max(1, cores / 2)} (this machine has {cores} cores), or unset it to use them all.";
        return cores;
    }

    static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // 100 µs of spinning before sleeping

    static readonly Worker[] Workers = CreateWorkers(MaxThreads - 1);
    static int busy;               // 1 while a job owns the pool
    static IParallelTasks? job;
    static int taskCount;
    static int nextTask;
    static int helpersWanted;      // workers [0, helpersWanted) may take part in the current job
    static int closed = 1;         // 1: the current job takes no more helpers
    static int active;             // helpers inside the current job
    static int generation;         // bumped once per job; workers wait for it to change
    static ExceptionDispatchInfo? failure;

    [ThreadStatic] static bool isWorker;

    /// <summary>
    /// Runs <c>work.Execute(t)</c> for every t in [0, tasks) on up to <paramref name="maxThreads"/>
    /// threads (the caller included) and returns when all are done. The first exception is rethrown.
    /// </summary>
    public static void Run(IParallelTasks work, int tasks, int maxThreads)
    {
        var helpers = Math.Min(Math.Min(maxThreads, tasks) - 1, Workers.Length);
        if (helpers <= 0 || isWorker || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            for (var t = 0; t < tasks; t++) work.Execute(t);
            return;
        }
        try
        {
            job = work;
            taskCount = tasks;
            nextTask = 0;
            failure = null;
            helpersWanted = helpers;
            Interlocked.Exchange(ref closed, 0); // publishes the fields above (full fence)
            Interlocked.Increment(ref generation);
            for (var w = 0; w < helpers; w++) Workers[w].WakeIfSleeping();

            RunTasks(work);

            // A helper that has not joined by now finds the job closed and backs out, so the caller
            // never waits for a sleeping worker to wake up; it only waits for helpers inside a task.
            Interlocked.Exchange(ref closed, 1);
            var spin = new SpinWait();
            while (Volatile.Read(ref active) != 0) spin.SpinOnce(sleep1Threshold: -1);
            failure?.Throw();
        }
        finally
        {
            job = null;
            Volatile.Write(ref busy, 0);
        }
    }

    static void RunTasks(IParallelTasks work)
    {
        try
        {
            int t;
            while ((t = Interlocked.Increment(ref nextTask) - 1) < taskCount) work.Execute(t);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
            Volatile.Write(ref nextTask, taskCount); // the others stop claiming tasks
        }
    }

    static Worker[] CreateWorkers(int count)
    {
        var workers = new Worker[count];
        for (var i = 0; i < count; i++) workers[i] = new Worker(i);
        return workers;
    }

    sealed class Worker
    {
        readonly int index;
        readonly ManualResetEventSlim wake = new(false, spinCount: 1);
        int sleeping;

        public Worker(int index)
        {
            this.index = index;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"LlmCourse kernel worker {index + 1}" };
            thread.Start();
        }

        public void WakeIfSleeping()
        {
            // Pairs with the Exchange in Loop: either the worker sees the new generation, or we see it asleep.
            if (Volatile.Read(ref sleeping) == 1) wake.Set();
        }

        void Loop()
        {
            isWorker = true;
            var seen = Volatile.Read(ref generation);
            while (true)
            {
                seen = WaitForJob(seen);
                // Increment, then read closed; the caller writes closed, then reads active: one of
                // the two sees the other, so no helper is still in a job the caller has left.
                Interlocked.Increment(ref active);
                if (Volatile.Read(ref closed) == 0 && index < Volatile.Read(ref helpersWanted) && job is { } work)
                    RunTasks(work);
                Interlocked.Decrement(ref active);
            }
        }

        int WaitForJob(int seen)
        {
            var start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                var now = Volatile.Read(ref generation);
                if (now != seen) return now;
                Thread.SpinWait(20);
            }
            while (true)
            {
                Interlocked.Exchange(ref sleeping, 1);
                var now = Volatile.Read(ref generation);
                if (now != seen)
                {
                    Volatile.Write(ref sleeping, 0);
                    return now;
                }
                wake.Wait();
                wake.Reset();
                Volatile.Write(ref sleeping, 0);
            }
        }
    }
}
