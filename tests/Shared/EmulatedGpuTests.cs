namespace LlmCourse.Tests.Cuda;

/// <summary>
/// Every Category=Cuda test of the assembly this file is linked into, on the emulated GPU (<see cref="EmulatedGpu"/>):
/// the CUDA backend's launchers, allocator, copies, cuBLAS calls and kernels (and in LlmCourse.Tests the course's
/// models and trainer on them) run together on every machine with g++, not only on the GPU machine. Its output lists
/// each test with its time; a failure names the tests that did not pass. In tests/Shared, linked into each test
/// project that has Category=Cuda tests.
/// </summary>
[Trait("Category", "CudaEmulation")]
public sealed class EmulatedGpuTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryCudaTestPassesOnTheEmulatedGpu() => EmulatedGpu.RunCudaTests(typeof(EmulatedGpuTests).Assembly, output);

    /// <summary>The same with the blocks of every launch and the threads of every block run in descending order.</summary>
    [Fact]
    public void EveryCudaTestPassesOnTheEmulatedGpuWithThreadsInReverseOrder() =>
        EmulatedGpu.RunCudaTests(typeof(EmulatedGpuTests).Assembly, output, reverseOrder: true);

    /// <summary>
    /// The same on a GPU older than Ampere (compute capability 7.5, a T4's): no bf16 tensor-core attention, so
    /// autocast's attention takes the float32 kernels, which widen their 16-bit inputs.
    /// </summary>
    [Fact]
    public void EveryCudaTestPassesOnAnEmulatedPreAmpereGpu() =>
        EmulatedGpu.RunCudaTests(typeof(EmulatedGpuTests).Assembly, output, computeCapability: 75);
}
