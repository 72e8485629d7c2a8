using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// The weight-gradient path (op(A) = A^T read where it is stored, B packed by the micro-kernel
/// while it computes the first tile): against the product computed in double, and against the
/// packing path bit for bit, over shapes that hit every edge of it (rows that are not a multiple
/// of MR, right-edge panels, k past KC, padded leading dimensions, both ways of sharing out tasks).
/// </summary>
public class SgemmInPlaceATests
{
    public static readonly TheoryData<string> Paths = ["Vector512", "Vector256"];

    /// <summary>m, n, k. n = 2 x 32 panels shares columns out; n = 65 and 100 share rows out.</summary>
    static readonly int[][] Shapes =
    [
        [8, 32, 1], [6, 16, 7], [13, 17, 300], [16, 64, 513], [64, 65, 1100], [65, 100, 257],
        [96, 130, 600], [200, 64, 40], [384, 96, 520], [512, 33, 64],
    ];

    [Theory, MemberData(nameof(Paths))]
    public void Matches_exact_product(string pathName)
    {
        var path = SgemmTests.Parse(pathName);
        var worst = 0.0;
        var seed = 100;
        foreach (var s in Shapes)
            foreach (var (alpha, beta) in new[] { (1f, 0f), (-0.5f, 2f) })
            {
                var g = GemmCase.Create(seed++, true, false, s[0], s[1], s[2], alpha, beta, padA: seed % 3, padB: seed % 2 * 5, padC: 1 + seed % 4);
                var mr = path == SgemmPath.Vector512 ? Vector512Kernel.MR : Vector256Kernel.MR;
                Assert.True(InPlace(g, path) == g.M >= mr, $"{g.Describe()} should read A in place on {pathName} exactly when m >= MR = {mr}");
                foreach (var threads in new[] { 1, 2, 3 })
                    worst = Math.Max(worst, g.Check(g.Run(path, threads), $"{pathName}, {threads} threads"));
            }
        TestContext.Current.TestOutputHelper?.WriteLine($"{pathName} in place: largest relative difference {worst:G3}");
    }

    /// <summary>
    /// The same sums in the same order as the packing path, so the same bits; except on AVX-512 where
    /// n leaves a one-column edge, which the packing path sums in four partial chains over k.
    /// </summary>
    [Theory, MemberData(nameof(Paths))]
    public void Same_bits_as_the_packing_path(string pathName)
    {
        var path = SgemmTests.Parse(pathName);
        var seed = 200;
        foreach (var s in Shapes)
        {
            var g = GemmCase.Create(seed++, true, false, s[0], s[1], s[2], 1.5f, 0.5f, padA: 2, padB: 1, padC: 3);
            if (path == SgemmPath.Vector512 && g.N % Vector512Kernel.NR == 1) continue;
            var packed = g.Run(path, threads: 2, packAlways: true);
            var inPlace = g.Run(path, threads: 2);
            for (var i = 0; i < packed.Length; i++)
                if (BitConverter.SingleToInt32Bits(packed[i]) != BitConverter.SingleToInt32Bits(inPlace[i]))
                    Assert.Fail($"{pathName} {g.Describe()}: element {i} is {inPlace[i]:R} in place, {packed[i]:R} packed");
        }
    }

    [Fact]
    public void Only_transposed_A_with_at_most_512_rows_is_read_in_place()
    {
        Assert.SkipUnless(SgemmOptions.IsSupported(SgemmPath.Vector256), "this CPU cannot run the Vector256 path");
        // The course's weight gradients dW = dY^T X (m = outputs, n = inputs, k = tokens).
        Assert.True(InPlace(GemmCase.Create(1, true, false, 384, 1536, 8), SgemmPath.Vector256));
        Assert.True(InPlace(GemmCase.Create(1, true, false, 65, 128, 8), SgemmPath.Vector256));
        Assert.False(InPlace(GemmCase.Create(1, true, false, 1536, 384, 8), SgemmPath.Vector256), "m > 512");
        Assert.False(InPlace(GemmCase.Create(1, true, false, 5, 384, 8), SgemmPath.Vector256), "m < MR");
        Assert.False(InPlace(GemmCase.Create(1, false, false, 384, 384, 8), SgemmPath.Vector256), "A not transposed");
        Assert.False(InPlace(GemmCase.Create(1, true, true, 384, 384, 8), SgemmPath.Vector256), "B transposed");
        Assert.False(InPlace(GemmCase.Create(1, true, false, 384, 384, 8), SgemmPath.Vector128), "the 128-bit kernel packs");
    }

    static unsafe bool InPlace(GemmCase g, SgemmPath path)
    {
        var args = new GemmArgs { TransA = g.TransA, TransB = g.TransB, M = g.M, N = g.N, K = g.K, Lda = g.Lda, Ldb = g.Ldb, Ldc = g.Ldc };
        return path switch
        {
            SgemmPath.Vector512 => SgemmDriver<Vector512Kernel>.ReadsAInPlace(args),
            SgemmPath.Vector256 => SgemmDriver<Vector256Kernel>.ReadsAInPlace(args),
            SgemmPath.Vector128 => SgemmDriver<Vector128Kernel>.ReadsAInPlace(args),
            _ => SgemmDriver<ScalarKernel>.ReadsAInPlace(args),
        };
    }
}
