namespace LlmCourse.Tests.Cuda;

/// <summary>
/// This assembly's Category=Cuda tests (the course's models and trainer on the GPU) on the emulated GPU
/// (<see cref="EmulatedGpu"/>, tests/Shared/EmulatedGpu.cs).
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
}
