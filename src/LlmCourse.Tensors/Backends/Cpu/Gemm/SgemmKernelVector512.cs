using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// The AVX-512 micro-kernel (Vector512): an 8 x 32 tile of C in 16 zmm accumulators (8 rows x 2 vectors of 16).
/// Each step of k loads one row of the B panel (2 vectors), broadcasts 8 values of the A panel and
/// issues 16 FMAs, which keeps both FMA pipes of a Zen 4/5 or Intel core busy from L1 (measured
/// ~240 GFLOP/s per core here, the same as 12 x 32, 14 x 32, 8 x 48 and 6 x 64 tiles). 8 rows
/// make A's packing an 8 x 8 transpose; 32 columns divide the course's widths (32, 64, 128, 384,
/// 1536). A right-edge tile of at most 16 columns runs a half-width loop, one of a single column
/// a loop down the rows and a bottom-edge tile of a single row a loop along it, so that a size
/// such as 65 (a character vocabulary) does not pay for a whole tile of zeros.
/// </summary>
internal readonly struct Vector512Kernel : ISgemmKernel
{
    public static int MR => 8;
    public static int NR => 32;
    // Measured here against KC = 256/384 and MC = 256: a B micro-panel of 512 x 32 floats (64 KiB)
    // overflows the 48 KiB L1, but L2 feeds its two loads per step easily, and half as many passes
    // over C (k = 4096: 8 instead of 16) gain 4-6% at 1024^3 and on the large-k weight gradients.
    public static int KC => 512;
    public static int MC => 512;   // A block 512 x 512 floats = 1 MiB, the L2

    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        if (nr == 1)
        {
            RunColumn(kc, a, b, c, ldc, mr, alpha, beta);
            return;
        }
        if (mr == 1)
        {
            RunRow(kc, a, b, c, nr, alpha, beta);
            return;
        }
        if (nr <= 16)
        {
            RunHalf(kc, a, b, c, ldc, mr, nr, alpha, beta);
            return;
        }
        Tile<ReadPackedB>(kc, a, 8, b, 32, null, c, ldc, mr, nr, alpha, beta);
    }

    public static bool ReadsAInPlace => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void RunInPlaceA(int kc, float* a, nint lda, float* b, nint ldb, float* bCopy,
        float* c, nint ldc, int nr, float alpha, float beta)
    {
        if (bCopy is null) Tile<ReadPackedB>(kc, a, lda, b, 32, null, c, ldc, 8, nr, alpha, beta);
        else Tile<PackBOnTheWay>(kc, a, lda, b, ldb, bCopy, c, ldc, 8, nr, alpha, beta);
    }

    /// <summary>
    /// The 8 x 32 tile: step p reads the 8 A values at <c>a + p * aStep</c> (8 for a packed panel) and
    /// the 32 B values at <c>b + p * bStep</c> (32 for a packed panel), copying those into
    /// <paramref name="bCopy"/> when <typeparamref name="TCopy"/> says so.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Tile<TCopy>(int kc, float* a, nint aStep, float* b, nint bStep, float* bCopy,
        float* c, nint ldc, int mr, int nr, float alpha, float beta) where TCopy : struct, IBPanelCopy
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (; kc > 0; kc--, a += aStep, b += bStep)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            if (TCopy.Copies)
            {
                Vector512.Store(b0, bCopy);
                Vector512.Store(b1, bCopy + 16);
                bCopy += 32;
            }
            var ai = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60); c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70); c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
        }

        // Interior tiles update C in place; edge tiles go through a tile on the stack.
        var full = mr == 8 && nr == 32;
        var tile = stackalloc float[8 * 32];
        var dst = full ? c : tile;
        var ld = full ? ldc : 32;
        var readC = full && beta != 0f;
        var va = full ? Vector512.Create(alpha) : Vector512<float>.One;
        var vb = Vector512.Create(beta);
        Update(dst, c00, va, vb, readC); Update(dst + 16, c01, va, vb, readC); dst += ld;
        Update(dst, c10, va, vb, readC); Update(dst + 16, c11, va, vb, readC); dst += ld;
        Update(dst, c20, va, vb, readC); Update(dst + 16, c21, va, vb, readC); dst += ld;
        Update(dst, c30, va, vb, readC); Update(dst + 16, c31, va, vb, readC); dst += ld;
        Update(dst, c40, va, vb, readC); Update(dst + 16, c41, va, vb, readC); dst += ld;
        Update(dst, c50, va, vb, readC); Update(dst + 16, c51, va, vb, readC); dst += ld;
        Update(dst, c60, va, vb, readC); Update(dst + 16, c61, va, vb, readC); dst += ld;
        Update(dst, c70, va, vb, readC); Update(dst + 16, c71, va, vb, readC);
        if (!full) SgemmTile.Merge(tile, 32, c, ldc, mr, nr, alpha, beta);
    }

    /// <summary>The same for a right-edge tile of at most 16 columns: one vector per row.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void RunHalf(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        for (; kc > 0; kc--, a += 8, b += 32)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
        }
        var full = mr == 8 && nr == 16;
        var tile = stackalloc float[8 * 16];
        var dst = full ? c : tile;
        var ld = full ? ldc : 16;
        var readC = full && beta != 0f;
        var va = full ? Vector512.Create(alpha) : Vector512<float>.One;
        var vb = Vector512.Create(beta);
        Update(dst, c0, va, vb, readC); dst += ld;
        Update(dst, c1, va, vb, readC); dst += ld;
        Update(dst, c2, va, vb, readC); dst += ld;
        Update(dst, c3, va, vb, readC); dst += ld;
        Update(dst, c4, va, vb, readC); dst += ld;
        Update(dst, c5, va, vb, readC); dst += ld;
        Update(dst, c6, va, vb, readC); dst += ld;
        Update(dst, c7, va, vb, readC);
        if (!full) SgemmTile.Merge(tile, 16, c, ldc, mr, nr, alpha, beta);
    }

    /// <summary>
    /// A right-edge tile of one column (n = 65, a character vocabulary, leaves one): vectors run down
    /// the 8 rows of the A panel instead, one FMA per step of k rather than 8. Four partial sums
    /// over k break the FMA latency chain.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void RunColumn(int kc, float* a, float* b, float* c, nint ldc, int mr, float alpha, float beta)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (; kc >= 4; kc -= 4, a += 32, b += 128)
        {
            s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a), Vector256.Create(b[0]), s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + 8), Vector256.Create(b[32]), s1);
            s2 = Vector256.FusedMultiplyAdd(Vector256.Load(a + 16), Vector256.Create(b[64]), s2);
            s3 = Vector256.FusedMultiplyAdd(Vector256.Load(a + 24), Vector256.Create(b[96]), s3);
        }
        for (; kc > 0; kc--, a += 8, b += 32)
            s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a), Vector256.Create(b[0]), s0);
        var tile = stackalloc float[8];
        Vector256.Store((s0 + s1) + (s2 + s3), tile);
        SgemmTile.Merge(tile, 1, c, ldc, mr, 1, alpha, beta);
    }

    /// <summary>
    /// A bottom-edge tile of one row (m = 65 leaves one): 2 FMAs per step of k rather than 16, with
    /// four partial sums over k to break the FMA latency chain. The B panel's padding is zero, so
    /// both vectors are computed whatever nr is.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void RunRow(int kc, float* a, float* b, float* c, int nr, float alpha, float beta)
    {
        Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default;
        Vector512<float> s20 = default, s21 = default, s30 = default, s31 = default;
        for (; kc >= 4; kc -= 4, a += 32, b += 128)
        {
            var ai = Vector512.Create(a[0]);
            s00 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b), s00);
            s01 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 16), s01);
            ai = Vector512.Create(a[8]);
            s10 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 32), s10);
            s11 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 48), s11);
            ai = Vector512.Create(a[16]);
            s20 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 64), s20);
            s21 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 80), s21);
            ai = Vector512.Create(a[24]);
            s30 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 96), s30);
            s31 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 112), s31);
        }
        for (; kc > 0; kc--, a += 8, b += 32)
        {
            var ai = Vector512.Create(a[0]);
            s00 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b), s00);
            s01 = Vector512.FusedMultiplyAdd(ai, Vector512.Load(b + 16), s01);
        }
        var tile = stackalloc float[32];
        Vector512.Store((s00 + s10) + (s20 + s30), tile);
        Vector512.Store((s01 + s11) + (s21 + s31), tile + 16);
        SgemmTile.Merge(tile, 32, c, 0, 1, nr, alpha, beta);
    }

    /// <summary><c>c = alpha * acc + beta * c</c> as one FMA; C is not read when beta is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Update(float* c, Vector512<float> acc, Vector512<float> alpha, Vector512<float> beta, bool readC)
    {
        var result = acc * alpha;
        if (readC) result = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c), result);
        Vector512.Store(result, c);
    }
}
