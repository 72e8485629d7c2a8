namespace LlmCourse.Tensors.Tests.Ops;

using LlmCourse.Tensors.Tests.Core;

/// <summary>Products against a double-precision triple loop, including transposed views and broadcast batches.</summary>
public sealed class MatMulTests
{
    static float[] Naive(float[] a, float[] b, int batch, int m, int k, int n, bool broadcastB = false)
    {
        var c = new float[batch * m * n];
        for (var i = 0; i < batch; i++)
            for (var r = 0; r < m; r++)
                for (var col = 0; col < n; col++)
                {
                    double s = 0;
                    for (var p = 0; p < k; p++) s += (double)a[i * m * k + r * k + p] * b[(broadcastB ? 0 : i * k * n) + p * n + col];
                    c[i * m * n + r * n + col] = (float)s;
                }
        return c;
    }

    [Fact]
    public void TwoDimensional()
    {
        var a = Tensor.FromArray(Check.Values(15, 1), 3, 5);
        var b = Tensor.FromArray(Check.Values(20, 2), 5, 4);
        Check.Close(Naive(a.ToArray(), b.ToArray(), 1, 3, 5, 4), a.MatMul(b), 1e-5f);
    }

    [Fact]
    public void TransposedViewsNeedNoCopy()
    {
        var w = Tensor.FromArray(Check.Values(20, 3), 4, 5);   // [out, in]
        var x = Tensor.FromArray(Check.Values(15, 4), 3, 5);
        var expected = Naive(x.ToArray(), w.T.Contiguous().ToArray(), 1, 3, 5, 4);
        Check.Close(expected, x.MatMul(w.T), 1e-5f);
        Check.Close(Naive(w.ToArray(), x.T.Contiguous().ToArray(), 1, 4, 5, 3), w.MatMul(x.T), 1e-5f);
        Check.Close(Naive(x.T.Contiguous().ToArray(), Naive(x.ToArray(), w.T.Contiguous().ToArray(), 1, 3, 5, 4), 1, 5, 3, 4),
            x.T.MatMul(x.MatMul(w.T)), 1e-4f);
    }

    [Fact]
    public void BatchedAndBroadcastBatches()
    {
        var a = Tensor.FromArray(Check.Values(2 * 3 * 4 * 5, 5), 2, 3, 4, 5);
        var b = Tensor.FromArray(Check.Values(2 * 3 * 5 * 2, 6), 2, 3, 5, 2);
        Check.Close(Naive(a.ToArray(), b.ToArray(), 6, 4, 5, 2), a.MatMul(b), 1e-5f);
        var shared = Tensor.FromArray(Check.Values(10, 7), 5, 2);
        Check.Close(Naive(a.ToArray(), shared.ToArray(), 6, 4, 5, 2, broadcastB: true), a.MatMul(shared), 1e-5f);
        var perHead = Tensor.FromArray(Check.Values(3 * 5 * 2, 8), 3, 5, 2);   // broadcast over the first dim
        var expected = new float[2 * 3 * 4 * 2];
        var av = a.ToArray();
        var pv = perHead.ToArray();
        for (var i = 0; i < 2; i++)
            for (var h = 0; h < 3; h++)
            {
                var block = Naive(av.Skip((i * 3 + h) * 20).Take(20).ToArray(), pv.Skip(h * 10).Take(10).ToArray(), 1, 4, 5, 2);
                block.CopyTo(expected, (i * 3 + h) * 8);
            }
        Check.Close(expected, a.MatMul(perHead), 1e-5f);
    }

    [Fact]
    public void VectorsFollowPyTorchRules()
    {
        var v = Tensor.FromArray([1f, 2f, 3f]);
        var m = Tensor.FromArray([1f, 0f, 0f, 1f, 1f, 1f], 3, 2);
        Assert.Equal(14f, v.MatMul(v).Item());
        Check.Shape([], v.MatMul(v));
        Assert.Equal(new float[] { 4, 5 }, v.MatMul(m).ToArray());
        var square = Tensor.FromArray([1f, 1f, 0f, 1f, 1f, 0f, 0f, 1f, 1f], 3, 3);
        Assert.Equal(new float[] { 3, 6, 3 }, square.T.MatMul(v).ToArray()); // matrix @ vector, transposed matrix
    }

    [Fact]
    public void GradientsAreTheTransposedProducts()
    {
        var a = Tensor.FromArray(Check.Values(6, 1), 2, 3);
        var b = Tensor.FromArray(Check.Values(12, 2), 3, 4);
        Check.Gradient(x => x.MatMul(b).Square().Sum(), a.ToArray(), [2, 3], tolerance: 2e-2f, eps: 1e-3f);
        Check.Gradient(x => a.MatMul(x).Square().Sum(), b.ToArray(), [3, 4], tolerance: 2e-2f, eps: 1e-3f);
        var batch = Tensor.FromArray(Check.Values(2 * 2 * 3, 3), 2, 2, 3);
        Check.Gradient(x => batch.MatMul(x).Square().Sum(), b.ToArray(), [3, 4], tolerance: 2e-2f, eps: 1e-3f);
    }

    [Fact]
    public void InnerDimMismatchNamesShapes()
    {
        var e = Assert.Throws<TensorShapeException>(() => Tensor.Zeros(32, 64).MatMul(Tensor.Zeros(128, 16)));
        Assert.Equal("MatMul: [32,64] @ [128,16]: inner dims 64 != 128", e.Message);
    }
}
