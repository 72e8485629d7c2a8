using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Matrix products through cuBLAS (<c>cublasGemmStridedBatchedEx</c>, float32 accumulation). Row-major
/// C = A B is the column-major C^T = B^T A^T, so the operands are passed swapped. Views whose last two
/// dims are swapped go in with the transpose flag and their leading dimension (no copy), like the CPU
/// backend's. Float32 operands use full float32 unless <see cref="Cuda.AllowTF32"/>. Under autocast the operands
/// come as bf16/fp16 tensors (<see cref="MatMulOperand"/>: converted once, with round-to-nearest-even, and saved
/// by autograd for the backward products) and run on the tensor cores with float32 accumulation; autocast's own
/// products (<see cref="MatMulRounded"/>) have cuBLAS store the 16-bit result, and a result that fills its storage
/// keeps it that way (<see cref="CudaStorage.HeldAs"/>: 2 bytes an element, read as such by the element-wise kernels
/// and by the next product); a float32 operand beside a 16-bit one, or one rounded elsewhere
/// (<see cref="Storage.ValuesRoundedTo"/>), is converted here.
/// cuBLAS may pick different algorithms run to run only if its workspace or heuristics change; on one
/// machine with one library version its results repeat.
/// </summary>
internal sealed partial class CudaBackend
{
    /// <summary>The view's span converted to bf16/fp16 in one pass, as a 16-bit tensor with the view's shape and strides.</summary>
    public override Tensor MatMulOperand(Tensor t, DType precision)
    {
        if (precision == DType.Float32 || t.DType == precision) return t;
        if (S(t).HeldAs == precision) return t;   // a product's result held in 16 bits: the operand already
        if (t.DType != DType.Float32) throw new InvalidOperationException($"MatMul (CUDA): a {t.DType} operand cannot be autocast to {precision}.");
        return new Tensor(Narrow(t, precision).Storage, t.shape, t.strides, 0);
    }

    /// <summary>An operand's device address as 16-bit values: a 16-bit tensor, or a Float32 view of a storage held in 16 bits.</summary>
    static ulong Address16(Tensor t) => t.DType.SizeOf() == 2 ? P(t)
        : S(t).HeldAs.SizeOf() == 2 ? S(t).HeldPointer + (ulong)(t.offset * 2)
        : throw new InvalidOperationException($"MatMul (CUDA): a {t.DType} operand held as {S(t).HeldAs} is not a 16-bit operand.");

    /// <summary>What a Float32 tensor's values are known to be rounded to: the 16-bit format its storage holds, or <see cref="Storage.ValuesRoundedTo"/>.</summary>
    static DType RoundedAs(Tensor t) => S(t).HeldAs != t.DType ? S(t).HeldAs : t.Storage.ValuesRoundedTo;

    public override void MatMul(Tensor a, Tensor b, Tensor c, bool accumulate) => Product(a, b, c, accumulate, P(c), Cublas.R32F, 4);

    public override bool MatMulRoundsAsItStores => true;

    /// <summary>
    /// Autocast's product with cuBLAS writing 16-bit values (its float32 sums rounded to nearest even as it stores
    /// them). When c is its storage's only view, fresh from the op, the storage keeps them: held in 16 bits, 2 bytes an
    /// element written where a float32 product and a rounding pass moved 4 + 4 + 4, and 2 read by the kernels after it.
    /// Otherwise they go into a temporary widened into c (2 + 2 + 4).
    /// </summary>
    public override void MatMulRounded(Tensor a, Tensor b, Tensor c, DType precision)
    {
        if (precision == DType.Float32 || !c.contiguous || c.Count == 0 || a.shape[^1] == 0)
        {
            base.MatMulRounded(a, b, c, precision);
            return;
        }
        var type = precision == DType.BFloat16 ? Cublas.R16BF : Cublas.R16F;
        if (CanHold(c))
        {
            Product(MatMulOperand(a, precision), MatMulOperand(b, precision), c, accumulate: false, Output(c, precision).Base, type, 2);
            return;
        }
        var narrowC = Temp(c.shape, precision);
        Product(MatMulOperand(a, precision), MatMulOperand(b, precision), c, accumulate: false, P(narrowC), type, 2);
        Copy(narrowC, c);
    }

    /// <summary>
    /// c's shape, a @ b (+ c when accumulating), written at <paramref name="output"/> (c's float32 address, or a
    /// contiguous 16-bit block of c's shape) as <paramref name="outputType"/>, <paramref name="outputSize"/> bytes an element.
    /// </summary>
    void Product(Tensor a, Tensor b, Tensor c, bool accumulate, ulong output, int outputType, int outputSize)
    {
        var rank = c.Rank;
        int m = c.shape[rank - 2], n = c.shape[rank - 1], k = a.shape[rank - 1];
        if (m == 0 || n == 0) return;
        var beta = accumulate ? 1f : 0f;
        if (k == 0)
        {
            if (!accumulate) Fill(c, 0f);
            return;
        }
        if (!CpuBackend.MatrixLayout(a, m, k, out var transA, out var lda)) { a = a.ContiguousData(); CpuBackend.MatrixLayout(a, m, k, out transA, out lda); }
        if (!CpuBackend.MatrixLayout(b, k, n, out var transB, out var ldb)) { b = b.ContiguousData(); CpuBackend.MatrixLayout(b, k, n, out transB, out ldb); }
        if (!c.contiguous) throw new InvalidOperationException("MatMul (CUDA): the output must be contiguous.");

        var precision = a.DType != DType.Float32 ? a.DType : b.DType != DType.Float32 ? b.DType
            : RoundedAs(a) == RoundedAs(b) ? RoundedAs(a) : DType.Float32;
        // The 16-bit copies are held as tensors until every product is queued: held only by their device
        // address, a copy could be finalized (its block back in the allocator's cache) before the product
        // is queued, and the next allocation (b's copy) would take the same block and overwrite a's values.
        Tensor? narrowA = null, narrowB = null;
        try
        {
            ulong addressA, addressB;
            int type;
            if (precision == DType.Float32) (addressA, addressB, type) = (P(a), P(b), Cublas.R32F);
            else
            {
                narrowA = MatMulOperand(a, precision);
                narrowB = MatMulOperand(b, precision);
                (addressA, addressB, type) = (Address16(narrowA), Address16(narrowB), precision == DType.BFloat16 ? Cublas.R16BF : Cublas.R16F);
            }
            var elementSize = precision == DType.Float32 ? 4UL : 2UL;
            var compute = precision == DType.Float32 && Tensors.Cuda.AllowTF32 ? Cublas.Compute32FFastTF32 : Cublas.Compute32F;

            var batchRank = rank - 2;
            long batch = 1;
            for (var d = 0; d < batchRank; d++) batch *= c.shape[d];
            var opA = transA ? Cublas.OpT : Cublas.OpN;
            var opB = transB ? Cublas.OpT : Cublas.OpN;
            Dev.MakeCurrent();
            if (batch == 1)
            {
                Gemm(opA, opB, m, n, k, addressA, lda, 0, addressB, ldb, 0, beta, output, 0, 1, type, compute, outputType);
                return;
            }
            var uniformA = CpuBackend.UniformBatchStride(a, batchRank, out var strideA);
            var uniformB = CpuBackend.UniformBatchStride(b, batchRank, out var strideB);
            // x @ W with W shared by every batch and x's batches stacked without gaps: one tall product.
            if (uniformA && uniformB && strideB == 0 && !transA && strideA == (long)m * lda && !accumulate && batch * m <= int.MaxValue)
            {
                Gemm(opA, opB, (int)(batch * m), n, k, addressA, lda, 0, addressB, ldb, 0, 0f, output, 0, 1, type, compute, outputType);
                return;
            }
            if (uniformA && uniformB && batch <= int.MaxValue)
            {
                Gemm(opA, opB, m, n, k, addressA, lda, strideA, addressB, ldb, strideB, beta, output, (long)m * n, (int)batch, type, compute,
                    outputType);
                return;
            }
            // Irregular batch strides: one product per matrix.
            for (long i = 0; i < batch; i++)
            {
                long rest = i, oa = 0, ob = 0;
                for (var d = batchRank - 1; d >= 0; d--)
                {
                    var id = rest % c.shape[d];
                    rest /= c.shape[d];
                    oa += id * a.strides[d];
                    ob += id * b.strides[d];
                }
                Gemm(opA, opB, m, n, k, addressA + (ulong)oa * elementSize, lda, 0, addressB + (ulong)ob * elementSize, ldb, 0, beta,
                    output + (ulong)(i * m * n * outputSize), 0, 1, type, compute, outputType);
            }
        }
        finally
        {
            GC.KeepAlive(narrowA);
            GC.KeepAlive(narrowB);
            GC.KeepAlive(a);
            GC.KeepAlive(b);
            GC.KeepAlive(c);
        }
    }

    /// <summary>Row-major c[m, n] = op(a)[m, k] op(b)[k, n] (+ c), as the column-major c^T = op(b)^T op(a)^T.</summary>
    void Gemm(int opA, int opB, int m, int n, int k, ulong a, int lda, long strideA, ulong b, int ldb, long strideB, float beta,
        ulong c, long strideC, int batch, int type, int compute, int cType) =>
        Cublas.GemmStridedBatched(Dev.Blas, opB, opA, n, m, k, 1f, b, type, ldb, strideB, a, type, lda, strideA, beta,
            c, n, strideC, batch, compute, cType);

    /// <summary>
    /// The elements a view reaches, from its first (its offset) to its last, converted to 16-bit floats with
    /// round-to-nearest-even (autocast's rounding, exact for values rounded already); the view's strides apply
    /// unchanged from the copy's start. Strides are never negative in this engine.
    /// </summary>
    Tensor Narrow(Tensor t, DType precision)
    {
        var last = t.offset;
        for (var d = 0; d < t.Rank; d++)
            if (t.shape[d] > 1) last += (long)(t.shape[d] - 1) * t.strides[d];
        var count = checked((int)(last - t.offset + 1));
        var narrow = Temp([count], precision);
        var args = new KernelArgs();
        args.Add(CudaLayout.Of([count], narrow, new Tensor(t.Storage, [count], [1], t.offset)));
        args.Add(Base(narrow));
        args.Add((int)precision);
        args.Add(Base(t));
        args.Add((int)DType.Float32);
        args.Add((long)count);
        Dev.LaunchElementwise("elementwise.cu", "copy_strided", count, ref args);
        return narrow;
    }
}
