using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>The worker pool runs every task exactly once, rethrows failures, and survives nesting.</summary>
public class KernelThreadsTests
{
    sealed class Counting(int tasks, Action<int>? body = null) : IParallelTasks
    {
        public readonly int[] Runs = new int[tasks];
        public void Execute(int task)
        {
            Interlocked.Increment(ref Runs[task]);
            body?.Invoke(task);
        }
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(1000, 2)]
    [InlineData(1000, 1)]
    [InlineData(37, 16)]
    public void Every_task_runs_exactly_once(int tasks, int threads)
    {
        for (var repeat = 0; repeat < 50; repeat++)
        {
            var work = new Counting(tasks, t => Thread.SpinWait(t % 7 * 10));
            KernelThreads.Run(work, tasks, threads);
            Assert.All(work.Runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void A_failing_task_is_rethrown_and_the_pool_still_works()
    {
        var failing = new Counting(100, t => { if (t == 42) throw new InvalidOperationException("task 42"); });
        var e = Assert.Throws<InvalidOperationException>(() => KernelThreads.Run(failing, 100, 2));
        Assert.Equal("task 42", e.Message);
        var work = new Counting(100);
        KernelThreads.Run(work, 100, 2);
        Assert.All(work.Runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void Nested_runs_complete_on_the_calling_thread()
    {
        var inner = new Counting[8];
        for (var i = 0; i < inner.Length; i++) inner[i] = new Counting(20);
        var outer = new Counting(8, t => KernelThreads.Run(inner[t], 20, 2));
        KernelThreads.Run(outer, 8, 2);
        Assert.All(inner, w => Assert.All(w.Runs, r => Assert.Equal(1, r)));
    }

    [Theory]
    [InlineData(null, 8, 8)]
    [InlineData("", 8, 8)]
    [InlineData("3", 8, 3)]
    [InlineData(" 2 ", 8, 2)]
    [InlineData("64", 8, 8)]
    public void Threads_TheVariableIsACountUpToTheCores(string? value, int cores, int expected)
    {
        Assert.Equal(expected, KernelThreads.ParseThreads(value, cores, out var problem));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("two")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("2.5")]
    public void Fault_AnInvalidThreadsValue_UsesEveryCore_AndSaysWhatToWrite(string value)
    {
        Assert.Equal(8, KernelThreads.ParseThreads(value, 8, out var problem));

        Assert.NotNull(problem);
        Assert.StartsWith($"LLMCOURSE_THREADS='{value}' is not a whole number of threads ≥ 1, so all 8 cores are used", problem);
        Assert.Contains("Set it to a number such as 4", problem);
    }
}
