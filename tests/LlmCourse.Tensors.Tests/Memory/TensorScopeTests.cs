using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cpu;

namespace LlmCourse.Tensors.Tests.Memory;

public sealed class TensorScopeTests
{
    [Fact]
    public void TensorsOfAnEndedScopeThrowInsteadOfReadingRecycledMemory()
    {
        Tensor inside;
        using (TensorScope.Begin()) inside = Tensor.Ones(1000) * 2f;
        var e = Assert.Throws<ObjectDisposedException>(() => inside.ToArray());
        Assert.Contains("TensorScope", e.Message);
        Assert.Contains("released", inside.ToString());
    }

    [Fact]
    public void KeepMovesATensorOutOfTheScope()
    {
        Tensor kept;
        using (var scope = TensorScope.Begin())
        {
            var ones = Tensor.Ones(10);
            var twos = ones + 1f;
            Assert.Equal(2, scope.OwnedCount);
            kept = scope.Keep(twos);
            Assert.Equal(1, scope.OwnedCount);
        }
        Assert.All(kept.ToArray(), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void ScopesNestAndKeepMovesToTheParent()
    {
        Tensor survivor;
        using (var outer = TensorScope.Begin())
        {
            using (var inner = TensorScope.Begin()) survivor = inner.Keep(Tensor.Full([4], 3f));
            Assert.Equal(3f, survivor.ToArray()[0]);
        }
        Assert.Throws<ObjectDisposedException>(() => survivor.ToArray());
    }

    [Fact]
    public void ParametersGradientsAndTensorsFromBeforeTheScopeSurvive()
    {
        var w = Tensor.Ones(3).WithGrad();
        var before = Tensor.Full([3], 5f);
        using (TensorScope.Begin()) (w * before).Sum().Backward();
        Assert.Equal(new float[] { 5, 5, 5 }, w.Grad!.ToArray());
        Assert.Equal(new float[] { 5, 5, 5 }, before.ToArray());
    }

    [Fact]
    public void ScopesMustEndInOrder()
    {
        var outer = TensorScope.Begin();
        var inner = TensorScope.Begin();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        outer.Dispose();
    }

    [Fact]
    public void PoolBucketsRoundUpByAtMostAQuarter()
    {
        foreach (var bytes in new long[] { 1, 64, 65, 100, 1000, 4096, 4097, 123_456, 10_000_000 })
        {
            var size = CpuMemoryPool.BucketSize(CpuMemoryPool.RentIndex(bytes));
            Assert.True(size >= bytes, $"{bytes} -> {size}");
            Assert.True(size <= Math.Max(64, bytes * 1.25 + 1), $"{bytes} -> {size}");
            Assert.True(CpuMemoryPool.BucketSize(CpuMemoryPool.ReturnIndex(size)) == size);
        }
    }

    [Fact]
    public void AModuleBuiltInsideAScopeKeepsItsParameters()
    {
        NN.Linear layer;
        using (TensorScope.Begin()) layer = new NN.Linear(4, 3, generator: new Generator(1));
        using (TensorScope.Begin()) _ = Tensor.Zeros(100) + 1f;   // reuses whatever the pool got back
        Assert.Equal(12, layer.Weight.ToArray().Length);
        Assert.True(layer.Forward(Tensor.Ones(2, 4)).ToArray().All(float.IsFinite));
    }
}
