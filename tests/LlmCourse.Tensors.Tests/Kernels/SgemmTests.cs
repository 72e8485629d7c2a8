using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// Every path of <see cref="Sgemm"/> against the product computed in double (tolerance written in
/// <see cref="GemmCase"/>) and against <see cref="Sgemm.Reference"/>, over shapes chosen to hit the
/// edges of the tiles of every kernel (MR = 4, 6, 8; NR = 4, 8, 16, 32; KC = 256, and 512 for AVX-512).
/// </summary>
public class SgemmTests
{
    public static readonly string[] Paths = ["Auto", "Vector512", "Vector256", "Vector128", "Scalar"];

    /// <summary>m, n, k: empty, vectors, exact tiles, tiles plus one, half-width edges, more than KC deep.</summary>
    static readonly int[][] Shapes =
    [
        [0, 5, 3], [5, 0, 3], [5, 3, 0], [1, 1, 1], [1, 37, 19], [29, 1, 19], [1, 1, 300],
        [2, 3, 4], [7, 9, 13], [8, 32, 256], [9, 33, 257], [6, 16, 8], [13, 17, 5],
        [16, 48, 64], [17, 65, 300], [24, 20, 31], [64, 64, 64], [65, 97, 513], [130, 45, 70],
    ];

    public static TheoryData<string, bool, bool> PathsAndTransposes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (var path in Paths)
            foreach (var transA in new[] { false, true })
                foreach (var transB in new[] { false, true })
                    data.Add(path, transA, transB);
        return data;
    }

    internal static SgemmPath Parse(string path)
    {
        var parsed = Enum.Parse<SgemmPath>(path);
        Assert.SkipUnless(SgemmOptions.IsSupported(parsed), $"this CPU cannot run the {path} path");
        return parsed;
    }

    [Theory, MemberData(nameof(PathsAndTransposes))]
    public void Matches_exact_product_on_edge_shapes(string pathName, bool transA, bool transB)
    {
        var path = Parse(pathName);
        var worst = 0.0;
        var seed = 1;
        foreach (var s in Shapes)
            foreach (var (alpha, beta) in new[] { (1f, 0f), (1f, 1f), (-0.5f, 2f), (2f, -1f) })
            {
                var g = GemmCase.Create(seed++, transA, transB, s[0], s[1], s[2], alpha, beta, padA: seed % 3, padB: seed % 2, padC: 1 + seed % 4);
                worst = Math.Max(worst, g.Check(g.Run(path), pathName));
            }
        TestContext.Current.TestOutputHelper?.WriteLine($"{pathName} {(transA ? "T" : "N")}{(transB ? "T" : "N")}: largest relative difference {worst:G3} (tolerance (k + 2) * 2^-24)");
    }

    [Theory, MemberData(nameof(PathsAndTransposes))]
    public void Matches_reference_loop(string pathName, bool transA, bool transB)
    {
        var path = Parse(pathName);
        var worst = 0.0;
        foreach (var s in Shapes)
        {
            var g = GemmCase.Create(s[0] * 31 + s[1], transA, transB, s[0], s[1], s[2], 1.5f, 0.5f, padA: 2, padB: 1, padC: 3);
            var ours = g.Run(path);
            var reference = g.RunReference();
            // Both must be within (k + 2) u scale of the exact value, hence within twice that of each other.
            g.Check(reference, "Reference");
            g.Check(ours, pathName);
            var tolerance = 2 * (s[2] + 2) * Math.Pow(2, -24);
            for (var i = 0; i < ours.Length; i++)
            {
                if (reference[i] == GemmCase.Sentinel) Assert.Equal(GemmCase.Sentinel, ours[i]);
                // Entries here are sums of at most k products of numbers in [-1, 1], so scale <= 1.5 k + 0.5.
                var difference = Math.Abs(ours[i] - reference[i]) / (1.5 * s[2] + 0.5);
                Assert.True(difference <= tolerance, $"{pathName} {g.Describe()}: element {i}: {ours[i]} vs reference {reference[i]}");
                worst = Math.Max(worst, difference);
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{pathName}: largest |ours - reference| / scale bound = {worst:G3}");
    }

    [Theory]
    [InlineData("Vector512")]
    [InlineData("Vector256")]
    [InlineData("Vector128")]
    [InlineData("Scalar")]
    public void Larger_products_match_double_accumulation(string pathName)
    {
        var path = Parse(pathName);
        var worst = 0.0;
        foreach (var (transA, transB) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var g = GemmCase.Create(7, transA, transB, 203, 161, 600, 1f, 1f, padA: 5, padB: 3, padC: 2);
            worst = Math.Max(worst, g.Check(g.Run(path), pathName));
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{pathName} 203x161x600: largest relative difference {worst:G3} (tolerance {602 * Math.Pow(2, -24):G3})");
    }

    [Fact]
    public void Beta_zero_ignores_NaN_in_C_and_alpha_zero_ignores_A_and_B()
    {
        var g = GemmCase.Create(3, false, false, 20, 40, 30, 1f, 0f);
        Assert.DoesNotContain(g.Run(), float.IsNaN);

        // alpha = 0: BLAS returns beta * C without reading A or B, so NaNs there do not matter.
        var h = GemmCase.Create(4, false, true, 20, 40, 30, 0f, 2f, padC: 1);
        Array.Fill(h.A, float.NaN);
        var c = h.Run();
        for (var i = 0; i < h.M; i++)
            for (var j = 0; j < h.N; j++)
                Assert.Equal(2f * h.C[i * h.Ldc + j], c[i * h.Ldc + j]);

        // k = 0: an empty sum, so C = beta * C (0 when beta is 0, even over NaN).
        var e = GemmCase.Create(5, true, false, 9, 11, 0, 1f, 0f);
        Assert.All(e.Run().Where((_, i) => i % e.Ldc < e.N), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Course_shapes_match_double_accumulation()
    {
        // The training shapes of the course (forward and both backward forms of a Linear layer),
        // cut to 256 rows so the double-precision check stays quick; the tiling does not depend on m.
        int[][] shapes = [[256, 384, 128], [256, 128, 384], [256, 65, 128], [384, 128, 256], [65, 128, 256]];
        var worst = 0.0;
        var seed = 100;
        foreach (var s in shapes)
            foreach (var (transA, transB) in new[] { (false, true), (false, false), (true, false) })
            {
                var g = GemmCase.Create(seed++, transA, transB, s[0], s[1], s[2]);
                worst = Math.Max(worst, g.Check(g.Run(), "Auto"));
            }
        TestContext.Current.TestOutputHelper?.WriteLine($"course shapes: largest relative difference {worst:G3}");
    }
}
