namespace LlmCourse.Tensors.Kernels;

/// <summary>
/// Row-major single-precision matrix multiply, BLAS style: <c>C = alpha * op(A) @ op(B) + beta * C</c>.
/// Conventions: op(A) is [m, k] and op(B) is [k, n]. When <c>transA</c> is false, A is stored as m rows
/// of at least k floats, <c>lda</c> apart; when true, A is stored as k rows of at least m floats (so a
/// transposed view is multiplied without a copy). Likewise B with <c>ldb</c>, and C is m rows <c>ldc</c>
/// apart. With <c>beta == 0</c>, C is written without being read (NaNs in C do not propagate).
/// </summary>
public static class Sgemm
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// <c>batch</c> independent products; matrix i of A starts at <c>i * strideA</c> (a stride of 0
    /// broadcasts one matrix over the batch), likewise B and C.
    /// </summary>
    public static void MultiplyBatched(int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        for (var i = 0; i < batch; i++)
            Multiply(transA, transB, m, n, k, alpha,
                a[(int)(i * strideA)..], lda, b[(int)(i * strideB)..], ldb, beta, c[(int)(i * strideC)..], ldc);
    }

    /// <summary>The plain triple loop every fast path is tested against.</summary>
    public static void Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                var sum = 0f;
                for (var p = 0; p < k; p++)
                {
                    var aip = transA ? a[p * lda + i] : a[i * lda + p];
                    var bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += aip * bpj;
                }
                c[i * ldc + j] = beta == 0f ? alpha * sum : alpha * sum + beta * c[i * ldc + j];
            }
    }
}
