using LlmCourse.Tensors.Kernels;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>Packing buffers and task objects are reused: after a first call, calls allocate nothing.</summary>
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
        void Calls()
        {
            Sgemm.Multiply(options, false, true, 300, 250, 200, 1f, a, 200, b, 200, 0f, c, 250);   // blocked
            Sgemm.Multiply(options, true, false, 1, 250, 200, 1f, a, 1, b, 250, 1f, c, 250);       // m = 1
            Sgemm.MultiplyBatched(options, 20, false, false, 15, 12, 10, 1f, a, 10, 150, b, 12, 120, 0f, c, 12, 180); // shared out
        }
        Calls();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++) Calls();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
