using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cpu;

namespace LlmCourse.Tensors.Tests.Memory;

/// <summary>
/// The backward pass gives each gradient back to the memory pool once it has been consumed, so a deep
/// graph needs a few gradient buffers at a time, not one per op until the step ends (a GPT's step
/// would otherwise hold every layer's gradients and outgrow the pool). Runs alone: the pool is process-wide.
/// </summary>
[Collection(Core.GlobalStateCollection.Name)]
public sealed class BackwardMemoryTests
{
    [Fact]
    public void BackwardThroughADeepChainReusesConsumedGradients()
    {
        const int ops = 24, size = 1 << 20;   // 4 MB per tensor
        var x = Tensor.Randn([size], new Generator(3)).WithGrad();
        using var scope = TensorScope.Begin();
        var y = x;
        for (var i = 0; i < ops; i++) y = y * 1.01f;
        var loss = y.Sum();
        CpuMemoryPool.Clear();   // no spare buffers: what backward needs, it must allocate or reuse
        var before = GC.GetAllocatedBytesForCurrentThread();
        loss.Backward();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Each MulBackward makes one 4 MB gradient from the one before it; without reuse the pass
        // allocates 24 of them (~100 MB). Measured with reuse: 2 buffers (8 MB) and the leaf's gradient.
        Assert.True(allocated < 6L * size * sizeof(float), $"backward allocated {allocated / 1e6:F1} MB for {ops} gradients of 4 MB");
        var expected = MathF.Pow(1.01f, ops);
        Assert.InRange(x.Grad!.ToArray()[12345], expected * (1 - 1e-5f), expected * (1 + 1e-5f));
    }
}
