namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// The sizes of one product, checked against the spans before any pointer is taken: the kernels
/// read and write through raw pointers, so every bound is checked here, once, with an error that
/// names the operand, its dimensions, its leading dimension and what the span holds.
/// </summary>
internal readonly record struct SgemmShape(bool TransA, bool TransB, int M, int N, int K, int Lda, int Ldb, int Ldc)
{
    public void Validate(string op, int aLength, long strideA, int bLength, long strideB, int cLength, long strideC, int batch)
    {
        if (M < 0 || N < 0 || K < 0 || batch < 0)
            throw new ArgumentOutOfRangeException(nameof(M),
                $"{op}: sizes must not be negative (m={M}, n={N}, k={K}, batch={batch}).");
        if (strideA < 0 || strideB < 0 || strideC < 0)
            throw new ArgumentOutOfRangeException(nameof(strideA),
                $"{op}: batch strides must not be negative (strideA={strideA}, strideB={strideB}, strideC={strideC}).");
        if (batch > 1 && strideC == 0 && M > 0 && N > 0)
            throw new ArgumentException($"{op}: strideC is 0, so the {batch} products would all write the same C.");
        // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), C is m x n.
        Check(op, "A", TransA ? K : M, TransA ? M : K, Lda, TransA ? "transA, k x m" : "m x k", aLength, strideA, batch);
        Check(op, "B", TransB ? N : K, TransB ? K : N, Ldb, TransB ? "transB, n x k" : "k x n", bLength, strideB, batch);
        Check(op, "C", M, N, Ldc, "m x n", cLength, strideC, batch);
    }

    void Check(string op, string name, int rows, int columns, int ld, string layout, int length, long stride, int batch)
    {
        if (ld < columns)
            throw new ArgumentException(
                $"{op}: {name} is stored {layout} = [{rows},{columns}] but its leading dimension {ld} is less than {columns} (m={M}, n={N}, k={K}).");
        if (rows == 0 || columns == 0 || batch == 0 || M == 0 || N == 0) return;
        var needed = (long)(rows - 1) * ld + columns + (batch - 1) * stride;
        if (length < needed)
            throw new ArgumentException(
                $"{op}: {name} is stored {layout} = [{rows},{columns}] with leading dimension {ld}" +
                (batch > 1 ? $" and batch {batch} x stride {stride}" : "") +
                $", which needs {needed} floats, but the span holds {length} (m={M}, n={N}, k={K}).");
    }

    public unsafe GemmArgs Args(float alpha, float beta, float* a, float* b, float* c) => new()
    {
        TransA = TransA, TransB = TransB, M = M, N = N, K = K, Alpha = alpha, Beta = beta,
        A = a, B = b, C = c, Lda = Lda, Ldb = Ldb, Ldc = Ldc,
    };
}
