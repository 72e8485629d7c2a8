using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// Packing: copies a block of op(A) or op(B) into the contiguous micro-panels the micro-kernel
/// streams through, so that the kernel's loads are sequential, aligned and free of TLB and cache-set
/// conflicts whatever the leading dimension. A transposed operand is transposed here, a block at a
/// time, never as a whole matrix. A panel of width W (MR for A, NR for B) holds kc steps of W floats;
/// a panel that overhangs the matrix is padded with zeros: the kernel computes whole tiles and the
/// padded lanes only feed accumulators it discards, but zeros keep them free of NaNs and denormals
/// (which are slow) left over in the reused buffer.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>
    /// Packs rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A) as ceil(mc / MR) panels of kc x MR.
    /// op(A)[i, p] is <c>a[i * lda + p]</c>, or <c>a[p * lda + i]</c> when <paramref name="transA"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<TKernel>(bool transA, float* a, nint lda, int i0, int mc, int p0, int kc, float* packed)
        where TKernel : ISgemmKernel
    {
        var w = TKernel.MR;
        if (transA)
        {
            // Stored rows of A are columns of op(A): row p of a panel is w contiguous floats of stored
            // row p0 + p. Eight 8-wide panels at a time read 256 contiguous bytes (four whole cache
            // lines) of each stored row and write eight sequential streams; measured on a 1536 x 384
            // x 4096 weight gradient (A read from memory), packing took 0.85 ms per thread instead of
            // 1.4 ms panel group by panel group below.
            if (w == 8 && Vector256.IsHardwareAccelerated)
                for (; mc >= 64; i0 += 64, mc -= 64, packed += (nint)8 * kc * 8)
                    PackEightPanels(a + (nint)p0 * lda + i0, lda, kc, packed);
            // Going down 8 stored rows at a time and across all panels uses each cache line while
            // it is in L1 (lda is often a power of two, so rows far apart compete for the same few
            // L1 sets).
            for (var p = 0; p < kc; p += 8)
            {
                var rows = Math.Min(8, kc - p);
                var src = a + (nint)(p0 + p) * lda + i0;
                for (var ir = 0; ir < mc; ir += w)
                    PackRows(src + ir, lda, rows, Math.Min(w, mc - ir), w, packed + (nint)(ir / w) * kc * w + p * w);
            }
            return;
        }
        for (var ir = 0; ir < mc; ir += w, packed += (nint)kc * w)
            PackColumns(a + (nint)(i0 + ir) * lda + p0, lda, kc, Math.Min(w, mc - ir), w, packed);
    }

    /// <summary>Eight full 8-wide panels of a transposed A: <c>packed[g][p * 8 + r] = src[p * ld + g * 8 + r]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    static void PackEightPanels(float* src, nint ld, int kc, float* packed)
    {
        var step = (nint)kc * 8;
        for (var p = 0; p < kc; p++, src += ld, packed += 8)
        {
            Vector256.Store(Vector256.Load(src), packed);
            Vector256.Store(Vector256.Load(src + 8), packed + step);
            Vector256.Store(Vector256.Load(src + 16), packed + 2 * step);
            Vector256.Store(Vector256.Load(src + 24), packed + 3 * step);
            Vector256.Store(Vector256.Load(src + 32), packed + 4 * step);
            Vector256.Store(Vector256.Load(src + 40), packed + 5 * step);
            Vector256.Store(Vector256.Load(src + 48), packed + 6 * step);
            Vector256.Store(Vector256.Load(src + 56), packed + 7 * step);
        }
    }

    /// <summary>
    /// Packs rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) as ceil(nc / NR) panels of kc x NR.
    /// op(B)[p, j] is <c>b[p * ldb + j]</c>, or <c>b[j * ldb + p]</c> when <paramref name="transB"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<TKernel>(bool transB, float* b, nint ldb, int p0, int kc, int j0, int nc, float* packed)
        where TKernel : ISgemmKernel
    {
        var w = TKernel.NR;
        for (var jr = 0; jr < nc; jr += w, packed += (nint)kc * w)
            PackBPanel<TKernel>(transB, b, ldb, p0, kc, j0 + jr, Math.Min(w, nc - jr), packed);
    }

    /// <summary>One NR-wide panel of op(B): columns [j0, j0 + columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackBPanel<TKernel>(bool transB, float* b, nint ldb, int p0, int kc, int j0, int columns, float* packed)
        where TKernel : ISgemmKernel
    {
        if (transB) PackColumns(b + (nint)j0 * ldb + p0, ldb, kc, columns, TKernel.NR, packed);
        else PackRows(b + (nint)p0 * ldb + j0, ldb, kc, columns, TKernel.NR, packed);
    }

    /// <summary>
    /// The panel is <paramref name="kc"/> source rows of <paramref name="width"/> contiguous floats,
    /// <paramref name="ld"/> apart: <c>packed[p * w + r] = src[p * ld + r]</c>, zero for r >= width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    static void PackRows(float* src, nint ld, int kc, int width, int w, float* packed)
    {
        if (width == w && w % 8 == 0 && Vector256.IsHardwareAccelerated)
        {
            for (var p = 0; p < kc; p++, src += ld, packed += w)
                for (var r = 0; r < w; r += 8)
                    Vector256.Store(Vector256.Load(src + r), packed + r);
            return;
        }
        for (var p = 0; p < kc; p++, src += ld, packed += w)
        {
            var r = 0;
            for (; r < width; r++) packed[r] = src[r];
            for (; r < w; r++) packed[r] = 0f;
        }
    }

    /// <summary>
    /// The panel is <paramref name="width"/> source rows of <paramref name="kc"/> contiguous floats,
    /// <paramref name="ld"/> apart, transposed: <c>packed[p * w + r] = src[r * ld + p]</c>, zero for
    /// r >= width. Full panels whose width is a multiple of 8 go through 8 x 8 register transposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    static void PackColumns(float* src, nint ld, int kc, int width, int w, float* packed)
    {
        var p = 0;
        if (width == w && w % 8 == 0 && Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
                for (var r = 0; r < w; r += 8)
                    Transpose8x8(src + r * ld + p, ld, packed + p * w + r, w);
        }
        for (var r = 0; r < width; r++)
        {
            var s = src + r * ld;
            for (var q = p; q < kc; q++) packed[q * w + r] = s[q];
        }
        for (var q = p; q < kc; q++)
            for (var r = width; r < w; r++) packed[q * w + r] = 0f;
    }

    /// <summary>dst[q * dstStride + r] = src[r * ld + q] for an 8 x 8 block (unpack, shuffle, lane swap).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(float* src, nint ld, float* dst, nint dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2 * ld);
        var r3 = Avx.LoadVector256(src + 3 * ld);
        var r4 = Avx.LoadVector256(src + 4 * ld);
        var r5 = Avx.LoadVector256(src + 5 * ld);
        var r6 = Avx.LoadVector256(src + 6 * ld);
        var r7 = Avx.LoadVector256(src + 7 * ld);

        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
