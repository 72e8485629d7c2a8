using System.Runtime.CompilerServices;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

// Design notes: how the SGEMM is built and why (measured on 2 cores of an AMD EPYC Zen 5:
// 48 KiB L1d and 1 MiB L2 per core, 32 MiB L3, AVX-512).
//
// - Structure: GotoBLAS/BLIS (SgemmDriver.cs). op(B) is packed once per product into KC x NR
//   panels shared by all threads; each task packs its own MC x KC block of op(A) into MR-row
//   panels; a register-blocked micro-kernel computes one MR x NR tile of C at a time. Packing
//   (SgemmPacking.cs) makes every kernel load sequential and aligned whatever lda/ldb are, and is
//   where transposed operands are transposed, 8 x 8 floats at a time in registers.
// - Micro-kernels (SgemmKernel*.cs), chosen at run time: AVX-512 8 x 32 (16 zmm accumulators),
//   AVX2 6 x 16 (12 ymm), 128-bit 8 x 8 (for ARM64 NEON), scalar 4 x 4. In isolation the 8 x 32
//   kernel runs at ~240 GFLOP/s on one core here (2 FMA pipes x 16 lanes x 2 flops x ~3.7 GHz),
//   as fast as 12 x 32, 14 x 32, 8 x 48 or 6 x 64 tiles; 8 rows make A's packing a plain 8 x 8
//   transpose and the smaller tile wastes less on the course's edges (m = 64, n = 65).
// - Blocking (AVX-512): KC = 512 and MC = 512 (the A block is 1 MiB, the L2; a 512 x 32 B panel is
//   64 KiB, more than L1, streamed from L2), measured 4-6% faster than KC = 256 (which fits L1) since
//   C is updated half as often; the packed B block holds up to 4M floats (16 MiB, L3) so that a
//   product of the course's sizes packs B once; when columns are split between threads, all of A is
//   packed once and shared. AVX2 and 128-bit keep KC = 256 (their L1 is smaller).
// - Weight gradients dW = dY^T X of layers with at most 512 outputs (op(A) = A^T, B not transposed,
//   m <= 512) make no packing pass (SgemmDriver.RunInPlaceA): a stored row of the transposed A holds
//   column p of a tile's MR rows contiguously, which is what a packed panel would hold, so the kernel
//   reads A in place; and the first tile of each B panel copies the B rows it loads into the packed
//   panel the other tiles read. Packing took about a fifth of 384 x 384 x 4096 (measured here:
//   0.9x of OpenBLAS packed, 1.0-1.1x in place; 65 x 128 x 2048 from 204 to 344 GFLOP/s). Wider A
//   (m > 512) keeps packing: read in place (in row blocks, each packing all of B) 1536 x 384 x 4096,
//   1024^3 and 2048 x 2048 x 512 ran 7-16% slower.
// - Threads (KernelThreads.cs): the caller plus one worker per other core. Phase 1 packs B
//   (one task per panel), phase 2 computes blocks of C (the same number per thread, claimed from a
//   counter, so a core slowed by another process takes fewer). k is never split across threads,
//   so every element is summed in the same order whatever the thread count: the bits do not
//   depend on the number of threads, nor on timing. Products under ParallelFlops (2 MFLOP,
//   ~10 µs on one core) run on the calling thread: measured here, 64^3 and 96^3 gain nothing
//   from a second thread, 128^3 (4 MFLOP) runs 1.6-1.7x faster with it.
// - Batched products are shared out whole between threads when each is too small to split or
//   when there are at least 4 per thread (attention's [B*H] products of [T,T] x [T,D]); a batch
//   that shares one B (stride 0) with A's rows contiguous across the batch becomes a single
//   taller product.
// - m == 1 or n == 1 go to SgemmGemv.cs (no packing: each element is used once).
// - Determinism: the same inputs on the same machine and path give the same bits, run after run,
//   with any thread count. Every micro-kernel vectorises across columns and sums each element as
//   one FMA chain per KC block, so the AVX2 and 128-bit paths agree bit for bit, and with
//   AVX-512 up to k = 256 (its KC is 512: past that its partial sums are grouped differently),
//   except where the AVX-512 kernel's one-row/one-column edge loops split k four ways (the in-place
//   path sums a one-column edge in one chain, so there it differs from the packing path), in GEMV
//   (which vectorises along k) and on the scalar path (no FMA).

/// <summary>
/// Row-major single-precision matrix multiply, BLAS style: <c>C = alpha * op(A) @ op(B) + beta * C</c>.
/// Conventions: op(A) is [m, k] and op(B) is [k, n]. When <c>transA</c> is false, A is stored as m rows
/// of at least k floats, <c>lda</c> apart; when true, A is stored as k rows of at least m floats (so a
/// transposed view is multiplied without a copy). Likewise B with <c>ldb</c>, and C is m rows <c>ldc</c>
/// apart. With <c>beta == 0</c>, C is written without being read (NaNs in C do not propagate). With
/// <c>alpha == 0</c> or <c>k == 0</c>, A and B are not read (BLAS semantics): C becomes <c>beta * C</c>.
/// </summary>
public static class Sgemm
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Multiply(SgemmOptions.Default, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// <c>batch</c> independent products; matrix i of A starts at <c>i * strideA</c> (a stride of 0
    /// broadcasts one matrix over the batch), likewise B and C. The C matrices may interleave (C
    /// rows of [T, H, D] from H products) but must not share an element: products run in parallel.
    /// </summary>
    public static void MultiplyBatched(int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC) =>
        MultiplyBatched(SgemmOptions.Default, batch, transA, transB, m, n, k, alpha,
            a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC);

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

    /// <summary>Products smaller than this (in flops) run on one thread: waking a worker costs more.</summary>
    internal const long ParallelFlops = 2_000_000;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Multiply(SgemmOptions options, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        var shape = new SgemmShape(transA, transB, m, n, k, lda, ldb, ldc);
        shape.Validate("Sgemm.Multiply", a.Length, 0, b.Length, 0, c.Length, 0, 1);
        if (m == 0 || n == 0) return;
        var path = options.ResolvePath();
        fixed (float* pa = a, pb = b, pc = c)
        {
            var g = shape.Args(alpha, beta, pa, pb, pc);
            g.PackAlways = options.PackAlways;
            Run(g, path, options.ThreadsFor(m, n, k));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void MultiplyBatched(SgemmOptions options, int batch, bool transA, bool transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB,
        float beta, Span<float> c, int ldc, long strideC)
    {
        var shape = new SgemmShape(transA, transB, m, n, k, lda, ldb, ldc);
        shape.Validate("Sgemm.MultiplyBatched", a.Length, strideA, b.Length, strideB, c.Length, strideC, batch);
        if (batch == 0 || m == 0 || n == 0) return;
        var path = options.ResolvePath();
        fixed (float* pa = a, pb = b, pc = c)
        {
            var g = shape.Args(alpha, beta, pa, pb, pc);
            g.PackAlways = options.PackAlways;
            // One B for the whole batch, A's and C's matrices one after the other: one taller product.
            if (batch > 1 && !transA && strideB == 0 && strideA == (long)m * lda && strideC == (long)m * ldc
                && (long)m * batch <= int.MaxValue)
            {
                g.M = m * batch;
                Run(g, path, options.ThreadsFor(g.M, n, k));
                return;
            }
            // Share whole products between threads when each is too small to split, or when there
            // are enough of them that each thread gets several (no fork and join per product).
            var threads = options.ThreadsFor(m, n, k);
            var poolThreads = options.PoolThreads;
            if (batch > 1 && poolThreads > 1
                && (threads == 1 ? 2L * batch * m * n * k >= ParallelFlops : batch >= 4 * poolThreads))
            {
                SgemmBatch.Run(g, path, batch, strideA, strideB, strideC, poolThreads);
                return;
            }
            for (var i = 0; i < batch; i++)
            {
                var item = g;
                item.A += i * strideA;
                item.B += i * strideB;
                item.C += i * strideC;
                Run(item, path, threads);
            }
        }
    }

    /// <summary>One product on validated pointers, m and n at least 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Run(in GemmArgs g, SgemmPath path, int threads)
    {
        if (g.K == 0 || g.Alpha == 0f)
        {
            Scale(g);
            return;
        }
        if (g.M == 1 || g.N == 1)
        {
            SgemmGemv.Run(g, path, threads);
            return;
        }
        switch (path)
        {
            case SgemmPath.Vector512: SgemmDriver<Vector512Kernel>.Run(g, threads); break;
            case SgemmPath.Vector256: SgemmDriver<Vector256Kernel>.Run(g, threads); break;
            case SgemmPath.Vector128: SgemmDriver<Vector128Kernel>.Run(g, threads); break;
            default: SgemmDriver<ScalarKernel>.Run(g, threads); break;
        }
    }

    /// <summary>C = beta * C (zeros when beta is 0, whatever C held).</summary>
    static unsafe void Scale(in GemmArgs g)
    {
        for (var i = 0; i < g.M; i++)
        {
            var row = new Span<float>(g.C + i * g.Ldc, g.N);
            if (g.Beta == 0f) row.Clear();
            else if (g.Beta != 1f)
                for (var j = 0; j < row.Length; j++) row[j] *= g.Beta;
        }
    }
}

/// <summary>Which micro-kernel family runs the product (tests force each one).</summary>
internal enum SgemmPath { Auto, Vector512, Vector256, Vector128, Scalar }

/// <summary>The internal switches: the path, and the most threads a product may use.</summary>
/// <remarks><c>PackAlways</c>: pack A even where the kernel would read it in place (tests compare both ways).</remarks>
internal readonly record struct SgemmOptions(SgemmPath Path, int MaxThreads, bool PackAlways = false)
{
    public static SgemmOptions Default => new(SgemmPath.Auto, KernelThreads.MaxThreads);

    /// <summary>The fastest path this CPU runs in hardware.</summary>
    public static SgemmPath Best { get; } =
        Vector512Kernel.IsSupported ? SgemmPath.Vector512
        : Vector256Kernel.IsSupported ? SgemmPath.Vector256
        : Vector128Kernel.IsSupported ? SgemmPath.Vector128
        : SgemmPath.Scalar;

    public static bool IsSupported(SgemmPath path) => path switch
    {
        SgemmPath.Vector512 => Vector512Kernel.IsSupported,
        SgemmPath.Vector256 => Vector256Kernel.IsSupported,
        SgemmPath.Vector128 => Vector128Kernel.IsSupported,
        _ => true,
    };

    public SgemmPath ResolvePath()
    {
        if (Path == SgemmPath.Auto) return Best;
        if (!IsSupported(Path))
            throw new PlatformNotSupportedException($"Sgemm: the {Path} path needs hardware this CPU lacks.");
        return Path;
    }

    /// <summary>Threads a product may use: the cores, or fewer when asked.</summary>
    public int PoolThreads => Math.Max(1, Math.Min(MaxThreads, KernelThreads.MaxThreads));

    /// <summary>Threads for one product of this size: one when it is too small to be worth splitting.</summary>
    public int ThreadsFor(int m, int n, int k) => 2L * m * n * k >= Sgemm.ParallelFlops ? PoolThreads : 1;
}
