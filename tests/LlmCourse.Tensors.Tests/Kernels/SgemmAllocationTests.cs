using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// Packing buffers and task objects are reused: after a first call, calls allocate nothing. Run alone (the
/// global-state collection): the kernel thread pool is process-wide, and while another test's product holds
/// it this thread runs every task itself; run in parallel with the rest of the suite, the count was 8 KB
/// about one run in four (before and after the engine was reshelved), with no change in this code.
/// </summary>
[Collection(LlmCourse.Tensors.Tests.Core.GlobalStateCollection.Name)]
public class SgemmAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Steady_state_calls_allocate_nothing(int threads)
    {
        var options = new SgemmOptions(SgemmPath.Auto, threads);
        var a = new float[300 * 200];
        var b = new float[200 * 250];
        var c = new float[300 * 250];
        var batchA = new float[40 * 32 * 32];
        var batchB = new float[40 * 32 * 32];
        var batchC = new float[40 * 32 * 32];
        void Calls()
        {
            Sgemm.Multiply(options, false, true, 300, 250, 200, 1f, a, 200, b, 200, 0f, c, 250);   // blocked
            Sgemm.Multiply(options, true, false, 1, 250, 200, 1f, a, 1, b, 250, 1f, c, 250);       // m = 1
            // 40 products of 32^3, 2.6 MFLOP in all: shared out between threads when there are two.
            Sgemm.MultiplyBatched(options, 40, false, false, 32, 32, 32, 1f, batchA, 32, 1024, batchB, 32, 1024, 0f, batchC, 32, 1024);
        }
        // Warm up every path a steady state takes, the pool's included: workers that spin, and workers
        // that went to sleep (their wake-up event creates its lock object lazily, on first contention).
        Calls();
        Thread.Sleep(5);
        Calls();
        Calls();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++) Calls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
