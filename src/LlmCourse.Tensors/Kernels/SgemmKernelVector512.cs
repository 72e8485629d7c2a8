using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Kernels;

/// <summary>
/// The AVX-512 micro-kernel (Vector512): an 8 x 32 tile of C in 16 zmm accumulators (8 rows x 2 vectors of 16).
/// Each step of k loads one row of the B panel (2 vectors), broadcasts 8 values of the A panel and
/// issues 16 FMAs, which keeps both FMA pipes of a Zen 4/5 or Intel core busy from L1 (measured
/// ~240 GFLOP/s per core here, the same as 12 x 32, 14 x 32, 8 x 48 and 6 x 64 tiles). 8 rows
/// make A's packing an 8 x 8 transpose; 32 columns divide the course's widths (32, 64, 128, 384,
/// 1536), and a right-edge tile of at most 16 columns runs a half-width loop so that a width such
/// as 65 (a character vocabulary) does not pay for 32 columns of zeros.
/// </summary>
internal readonly struct Vector512Kernel : ISgemmKernel
{
    public static int MR => 8;
    public static int NR => 32;
    public static int KC => 256;   // B micro-panel 256 x 32 floats = 32 KiB of the 48 KiB L1
    public static int MC => 128;   // A block 128 x 256 floats = 128 KiB of the 1 MiB L2

    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        if (nr <= 16)
        {
            RunHalf(kc, a, b, c, ldc, mr, nr, alpha, beta);
            return;
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (; kc > 0; kc--, a += 8, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
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

    /// <summary><c>c = alpha * acc + beta * c</c> as one FMA; C is not read when beta is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Update(float* c, Vector512<float> acc, Vector512<float> alpha, Vector512<float> beta, bool readC)
    {
        var result = acc * alpha;
        if (readC) result = Vector512.FusedMultiplyAdd(beta, Vector512.Load(c), result);
        Vector512.Store(result, c);
    }
}
