using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// The 128-bit micro-kernel (Vector128), meant for ARM64 (Apple silicon and other NEON CPUs, which
/// have 32 vector registers): an 8 x 8 tile in 16 accumulators. On x64 it is only a fallback (SSE
/// has 16 registers, so it spills) and the tests force it to check it.
/// </summary>
internal readonly struct Vector128Kernel : ISgemmKernel
{
    public static int MR => 8;
    public static int NR => 8;
    public static int KC => 256;   // B micro-panel 256 x 8 floats = 8 KiB of L1
    public static int MC => 128;

    public static bool IsSupported => Vector128.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.IsSupported);

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector128<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector128<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector128<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (; kc > 0; kc--, a += 8, b += 8)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var ai = Vector128.Create(a[0]);
            c00 = Vector128.FusedMultiplyAdd(ai, b0, c00); c01 = Vector128.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector128.Create(a[1]);
            c10 = Vector128.FusedMultiplyAdd(ai, b0, c10); c11 = Vector128.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector128.Create(a[2]);
            c20 = Vector128.FusedMultiplyAdd(ai, b0, c20); c21 = Vector128.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector128.Create(a[3]);
            c30 = Vector128.FusedMultiplyAdd(ai, b0, c30); c31 = Vector128.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector128.Create(a[4]);
            c40 = Vector128.FusedMultiplyAdd(ai, b0, c40); c41 = Vector128.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector128.Create(a[5]);
            c50 = Vector128.FusedMultiplyAdd(ai, b0, c50); c51 = Vector128.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector128.Create(a[6]);
            c60 = Vector128.FusedMultiplyAdd(ai, b0, c60); c61 = Vector128.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector128.Create(a[7]);
            c70 = Vector128.FusedMultiplyAdd(ai, b0, c70); c71 = Vector128.FusedMultiplyAdd(ai, b1, c71);
        }

        var full = mr == 8 && nr == 8;
        var tile = stackalloc float[8 * 8];
        var dst = full ? c : tile;
        var ld = full ? ldc : 8;
        var readC = full && beta != 0f;
        var va = full ? Vector128.Create(alpha) : Vector128<float>.One;
        var vb = Vector128.Create(beta);
        Update(dst, c00, va, vb, readC); Update(dst + 4, c01, va, vb, readC); dst += ld;
        Update(dst, c10, va, vb, readC); Update(dst + 4, c11, va, vb, readC); dst += ld;
        Update(dst, c20, va, vb, readC); Update(dst + 4, c21, va, vb, readC); dst += ld;
        Update(dst, c30, va, vb, readC); Update(dst + 4, c31, va, vb, readC); dst += ld;
        Update(dst, c40, va, vb, readC); Update(dst + 4, c41, va, vb, readC); dst += ld;
        Update(dst, c50, va, vb, readC); Update(dst + 4, c51, va, vb, readC); dst += ld;
        Update(dst, c60, va, vb, readC); Update(dst + 4, c61, va, vb, readC); dst += ld;
        Update(dst, c70, va, vb, readC); Update(dst + 4, c71, va, vb, readC);
        if (!full) SgemmTile.Merge(tile, 8, c, ldc, mr, nr, alpha, beta);
    }

    /// <summary><c>c = alpha * acc + beta * c</c> as one FMA; C is not read when beta is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Update(float* c, Vector128<float> acc, Vector128<float> alpha, Vector128<float> beta, bool readC)
    {
        var result = acc * alpha;
        if (readC) result = Vector128.FusedMultiplyAdd(beta, Vector128.Load(c), result);
        Vector128.Store(result, c);
    }
}
