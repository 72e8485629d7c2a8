using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Matrix products through <see cref="Sgemm"/>. Conventions: a is [..., m, k], b is [..., k, n], c is
/// [..., m, n]. A view whose last two dims are swapped (x.T, a transposed weight) is passed with the
/// transpose flag and its leading dimension, never copied; only views that are neither row- nor
/// column-major (e.g. a step-2 slice) are copied first.
/// </summary>
internal sealed partial class CpuBackend
{
    public override void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate)
    {
        var rank = c.Rank;
        int m = c.shape[rank - 2], n = c.shape[rank - 1], k = a.shape[rank - 1];
        if (m == 0 || n == 0) return;
        var beta = accumulate ? 1f : 0f;
        if (!MatrixLayout(a, m, k, out var transA, out var lda)) { a = a.ContiguousData(); MatrixLayout(a, m, k, out transA, out lda); }
        if (!MatrixLayout(b, k, n, out var transB, out var ldb)) { b = b.ContiguousData(); MatrixLayout(b, k, n, out transB, out ldb); }
        var af = AllFloats(a);
        var bf = AllFloats(b);
        var cf = AllFloats(c);

        var batchRank = rank - 2;
        long batch = 1;
        for (var d = 0; d < batchRank; d++) batch *= c.shape[d];
        if (batch == 1)
        {
            Sgemm.Multiply(transA, transB, m, n, k, 1f, af[(int)a.offset..], lda, bf[(int)b.offset..], ldb, beta, cf[(int)c.offset..], n);
            return;
        }

        var uniformA = UniformBatchStride(a, batchRank, out var strideA);
        var uniformB = UniformBatchStride(b, batchRank, out var strideB);
        // A weight shared by every batch (stride 0) times row-major batches stacked without gaps:
        // one tall product [batch*m, k] @ [k, n] instead of many small ones.
        if (uniformA && uniformB && strideB == 0 && !transA && strideA == (long)m * lda && !accumulate)
        {
            Sgemm.Multiply(false, transB, (int)(batch * m), n, k, 1f, af[(int)a.offset..], lda, bf[(int)b.offset..], ldb, 0f, cf[(int)c.offset..], n);
            return;
        }
        if (uniformA && uniformB)
        {
            Sgemm.MultiplyBatched((int)batch, transA, transB, m, n, k, 1f, af[(int)a.offset..], lda, strideA,
                bf[(int)b.offset..], ldb, strideB, beta, cf[(int)c.offset..], n, (long)m * n);
            return;
        }
        // Irregular batch strides: one product per matrix.
        Span<int> index = stackalloc int[batchRank];
        for (long i = 0; i < batch; i++)
        {
            long rest = i, oa = a.offset, ob = b.offset;
            for (var d = batchRank - 1; d >= 0; d--)
            {
                var id = (int)(rest % c.shape[d]);
                rest /= c.shape[d];
                oa += (long)id * a.strides[d];
                ob += (long)id * b.strides[d];
            }
            Sgemm.Multiply(transA, transB, m, n, k, 1f, af[(int)oa..], lda, bf[(int)ob..], ldb, beta,
                cf[(int)(c.offset + i * m * n)..], n);
        }
    }

    /// <summary>
    /// How a [rows, cols] matrix view is stored: row-major with <paramref name="ld"/> between rows, or
    /// transposed (column-major) with <paramref name="ld"/> between columns. False when it is neither.
    /// </summary>
    internal static bool MatrixLayout(Tensor t, int rows, int cols, out bool transposed, out int ld)
    {
        var r = t.Rank;
        int rs = t.strides[r - 2], cs = t.strides[r - 1];
        if ((cs == 1 || cols <= 1) && (rs >= Math.Max(cols, 1) || rows <= 1))
        {
            transposed = false;
            ld = rows <= 1 ? Math.Max(cols, 1) : rs;
            return true;
        }
        if ((rs == 1 || rows <= 1) && (cs >= Math.Max(rows, 1) || cols <= 1))
        {
            transposed = true;
            ld = cols <= 1 ? Math.Max(rows, 1) : cs;
            return true;
        }
        transposed = false;
        ld = 0;
        return false;
    }

    /// <summary>True when batch i starts at i * stride (0 for a broadcast operand) over all batch dims.</summary>
    internal static bool UniformBatchStride(Tensor t, int batchRank, out long stride)
    {
        stride = 0;
        var found = false;
        long expected = 0;
        for (var d = batchRank - 1; d >= 0; d--)
        {
            if (t.shape[d] == 1) continue;
            if (!found)
            {
                stride = t.strides[d];
                expected = stride * t.shape[d];
                found = true;
                continue;
            }
            if (t.strides[d] != expected) return false;
            expected *= t.shape[d];
        }
        return true;
    }
}
