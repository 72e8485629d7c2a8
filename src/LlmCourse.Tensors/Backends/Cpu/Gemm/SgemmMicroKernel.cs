using System.Runtime.CompilerServices;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// A register-blocked micro-kernel: one MR x NR tile of C from a packed A micro-panel (kc steps of
/// MR floats: column p of the tile's rows) and a packed B micro-panel (kc steps of NR floats: row p
/// of the tile's columns), zero-padded where the tile overhangs the matrix. The sizes are static so
/// that the generic driver and packing code are compiled once per kernel with them as constants.
/// </summary>
internal interface ISgemmKernel
{
    /// <summary>Rows of the C tile: A values broadcast from the packed A panel.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the C tile: vectors loaded from the packed B panel.</summary>
    static abstract int NR { get; }

    /// <summary>Depth of a packed block: a B micro-panel (KC x NR) should stay in L1.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of A packed at once (a multiple of MR): an MC x KC block of A stays in L2.</summary>
    static abstract int MC { get; }

    /// <summary>
    /// <c>C[0..mr, 0..nr] = alpha * (A panel @ B panel) + beta * C</c>, C rows <paramref name="ldc"/>
    /// apart; with <c>beta == 0</c> C is not read. <paramref name="mr"/> and <paramref name="nr"/> are
    /// at most MR and NR; smaller at the bottom and right edges of C.
    /// </summary>
    static abstract unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta);

    /// <summary>Whether the kernel implements <see cref="RunInPlaceA"/>.</summary>
    static virtual bool ReadsAInPlace => false;

    /// <summary>
    /// A tile of MR rows with A read where it is stored, not from a packed panel: a transposed A
    /// (stored k x m) keeps column p of the tile's rows as MR contiguous floats at
    /// <c>a + p * lda</c>, which is what a packed panel holds, so it needs no packing. B is a packed
    /// panel (<paramref name="bCopy"/> null, <paramref name="ldb"/> = NR), or a full panel of
    /// op(B) read where it is stored (row p at <c>b + p * ldb</c>) and copied into
    /// <paramref name="bCopy"/> as the packed panel the next tiles read: B is packed while the first
    /// tile is computed, not in a pass of its own. Same sums, in the same order, as <see cref="Run"/>.
    /// </summary>
    static virtual unsafe void RunInPlaceA(int kc, float* a, nint lda, float* b, nint ldb, float* bCopy,
        float* c, nint ldc, int nr, float alpha, float beta) =>
        throw new NotSupportedException("This micro-kernel reads A from packed panels only.");
}

/// <summary>Whether a micro-kernel's loop also copies the B rows it loads (compiled once for each answer).</summary>
internal interface IBPanelCopy
{
    static abstract bool Copies { get; }
}

/// <summary>B comes from a packed panel: nothing to copy.</summary>
internal readonly struct ReadPackedB : IBPanelCopy
{
    public static bool Copies => false;
}

/// <summary>B is read where it is stored and copied into a packed panel on the way.</summary>
internal readonly struct PackBOnTheWay : IBPanelCopy
{
    public static bool Copies => true;
}

/// <summary>Helpers shared by the micro-kernels.</summary>
internal static class SgemmTile
{
    /// <summary>
    /// Writes the part of a full accumulator tile (row stride <paramref name="tileStride"/>) that lies
    /// inside C. Edge tiles go through here; <c>fma(beta, c, alpha * acc)</c> is the same rounding as
    /// the vector epilogue of interior tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Merge(float* tile, int tileStride, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        for (var i = 0; i < mr; i++)
        {
            var t = tile + i * tileStride;
            var ci = c + i * ldc;
            if (beta == 0f)
                for (var j = 0; j < nr; j++) ci[j] = alpha * t[j];
            else
                for (var j = 0; j < nr; j++) ci[j] = MathF.FusedMultiplyAdd(beta, ci[j], alpha * t[j]);
        }
    }
}

/// <summary>The portable micro-kernel: 4 x 4 scalar accumulators, for CPUs without usable SIMD.</summary>
internal readonly struct ScalarKernel : ISgemmKernel
{
    public static int MR => 4;
    public static int NR => 4;
    public static int KC => 256;
    public static int MC => 64;

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run(int kc, float* a, float* b, float* c, nint ldc, int mr, int nr, float alpha, float beta)
    {
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (var p = 0; p < kc; p++, a += 4, b += 4)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            var ai = a[0]; c00 += ai * b0; c01 += ai * b1; c02 += ai * b2; c03 += ai * b3;
            ai = a[1]; c10 += ai * b0; c11 += ai * b1; c12 += ai * b2; c13 += ai * b3;
            ai = a[2]; c20 += ai * b0; c21 += ai * b1; c22 += ai * b2; c23 += ai * b3;
            ai = a[3]; c30 += ai * b0; c31 += ai * b1; c32 += ai * b2; c33 += ai * b3;
        }
        var tile = stackalloc float[16]
        {
            c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33,
        };
        SgemmTile.Merge(tile, 4, c, ldc, mr, nr, alpha, beta);
    }
}
