using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// The AVX2 micro-kernel (Vector256), for x64 CPUs without AVX-512 (most Intel laptops): a 6 x 16
/// tile in 12 ymm accumulators, leaving 3 of the 16 ymm registers for the B row and the broadcast
/// (BLIS's Haswell kernel has the same shape). A right-edge tile of at most 8 columns runs a
/// half-width loop.
/// </summary>
internal readonly struct Vector256Kernel : ISgemmKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static int KC => 256;   // B micro-panel 256 x 16 floats = 16 KiB of a 32 KiB L1
    public static int MC => 96;    // A block 96 x 256 floats = 96 KiB of a 256 KiB+ L2

    public static bool IsSupported => Vector256.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.IsSupported);

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        if (nr <= 8)
        {
            RunHalf(kc, a, b, c, ldc, mr, nr, alpha, beta);
            return;
        }
        Tile<ReadPackedB>(kc, a, 6, b, 16, null, c, ldc, mr, nr, alpha, beta);
    }

    public static bool ReadsAInPlace => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void RunInPlaceA(int kc, float* a, nint lda, float* b, nint ldb, float* bCopy,
        float* c, nint ldc, int nr, float alpha, float beta)
    {
        if (bCopy is null) Tile<ReadPackedB>(kc, a, lda, b, 16, null, c, ldc, 6, nr, alpha, beta);
        else Tile<PackBOnTheWay>(kc, a, lda, b, ldb, bCopy, c, ldc, 6, nr, alpha, beta);
    }

    /// <summary>
    /// The 6 x 16 tile: step p reads the 6 A values at <c>a + p * aStep</c> (6 for a packed panel) and
    /// the 16 B values at <c>b + p * bStep</c> (16 for a packed panel), copying those into
    /// <paramref name="bCopy"/> when <typeparamref name="TCopy"/> says so.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void Tile<TCopy>(int kc, float* a, nint aStep, float* b, nint bStep, float* bCopy,
        float* c, nint ldc, int mr, int nr, float alpha, float beta) where TCopy : struct, IBPanelCopy
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        for (; kc > 0; kc--, a += aStep, b += bStep)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            if (TCopy.Copies)
            {
                Vector256.Store(b0, bCopy);
                Vector256.Store(b1, bCopy + 8);
                bCopy += 16;
            }
            var ai = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00); c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10); c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20); c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30); c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40); c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50); c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
        }

        // Interior tiles update C in place; edge tiles go through a tile on the stack.
        var full = mr == 6 && nr == 16;
        var tile = stackalloc float[6 * 16];
        var dst = full ? c : tile;
        var ld = full ? ldc : 16;
        var readC = full && beta != 0f;
        var va = full ? Vector256.Create(alpha) : Vector256<float>.One;
        var vb = Vector256.Create(beta);
        Update(dst, c00, va, vb, readC); Update(dst + 8, c01, va, vb, readC); dst += ld;
        Update(dst, c10, va, vb, readC); Update(dst + 8, c11, va, vb, readC); dst += ld;
        Update(dst, c20, va, vb, readC); Update(dst + 8, c21, va, vb, readC); dst += ld;
        Update(dst, c30, va, vb, readC); Update(dst + 8, c31, va, vb, readC); dst += ld;
        Update(dst, c40, va, vb, readC); Update(dst + 8, c41, va, vb, readC); dst += ld;
        Update(dst, c50, va, vb, readC); Update(dst + 8, c51, va, vb, readC);
        if (!full) SgemmTile.Merge(tile, 16, c, ldc, mr, nr, alpha, beta);
    }

    /// <summary>The same for a right-edge tile of at most 8 columns: one vector per row.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void RunHalf(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (; kc > 0; kc--, a += 6, b += 16)
        {
            var b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
        }
        var full = mr == 6 && nr == 8;
        var tile = stackalloc float[6 * 8];
        var dst = full ? c : tile;
        var ld = full ? ldc : 8;
        var readC = full && beta != 0f;
        var va = full ? Vector256.Create(alpha) : Vector256<float>.One;
        var vb = Vector256.Create(beta);
        Update(dst, c0, va, vb, readC); dst += ld;
        Update(dst, c1, va, vb, readC); dst += ld;
        Update(dst, c2, va, vb, readC); dst += ld;
        Update(dst, c3, va, vb, readC); dst += ld;
        Update(dst, c4, va, vb, readC); dst += ld;
        Update(dst, c5, va, vb, readC);
        if (!full) SgemmTile.Merge(tile, 8, c, ldc, mr, nr, alpha, beta);
    }

    /// <summary><c>c = alpha * acc + beta * c</c> as one FMA; C is not read when beta is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Update(float* c, Vector256<float> acc, Vector256<float> alpha, Vector256<float> beta, bool readC)
    {
        var result = acc * alpha;
        if (readC) result = Vector256.FusedMultiplyAdd(beta, Vector256.Load(c), result);
        Vector256.Store(result, c);
    }
}
