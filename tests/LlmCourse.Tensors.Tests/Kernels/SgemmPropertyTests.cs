using FsCheck;
using FsCheck.Fluent;
using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// FsCheck: random shapes (0 to 80 in each dimension, so every tile edge of every kernel comes up),
/// transposes, alpha/beta, padded leading dimensions and thread counts, each path forced; the result
/// must be within the tolerance of <see cref="GemmCase"/> of the product computed in double.
/// </summary>
public class SgemmPropertyTests
{
    record Sample(int M, int N, int K, bool TransA, bool TransB, float Alpha, float Beta, int PadA, int PadB, int PadC, int Threads, int Seed);

    static readonly Gen<Sample> Samples =
        from m in Gen.Choose(0, 80)
        from n in Gen.Choose(0, 80)
        from k in Gen.Choose(0, 80)
        from transA in Gen.Elements(false, true)
        from transB in Gen.Elements(false, true)
        from alpha in Gen.Elements(1f, -1.5f, 0.25f)
        from beta in Gen.Elements(0f, 1f, 0.5f)
        from padA in Gen.Choose(0, 3)
        from padB in Gen.Choose(0, 3)
        from padC in Gen.Choose(0, 3)
        from threads in Gen.Elements(1, 2)
        from seed in Gen.Choose(0, 1 << 20)
        select new Sample(m, n, k, transA, transB, alpha, beta, padA, padB, padC, threads, seed);

    [Theory]
    [InlineData("Vector512")]
    [InlineData("Vector256")]
    [InlineData("Vector128")]
    [InlineData("Scalar")]
    public void Random_products_match_double_accumulation(string pathName)
    {
        var path = SgemmTests.Parse(pathName);
        var worst = 0.0;
        var property = Prop.ForAll(Samples.ToArbitrary(), s =>
        {
            var g = GemmCase.Create(s.Seed, s.TransA, s.TransB, s.M, s.N, s.K, s.Alpha, s.Beta, s.PadA, s.PadB, s.PadC);
            worst = Math.Max(worst, g.Check(g.Run(path, s.Threads), pathName));
        });
        property.Check(Config.QuickThrowOnFailure.WithMaxTest(150));
        TestContext.Current.TestOutputHelper?.WriteLine($"{pathName}: 150 random products, largest relative difference {worst:G3} (tolerance (k + 2) * 2^-24)");
    }

    [Fact]
    public void Large_random_products_match_double_accumulation_multithreaded()
    {
        // Big enough to take the multi-threaded path with several KC blocks and column tasks.
        var worst = 0.0;
        var property = Prop.ForAll(
            (from m in Gen.Choose(100, 300)
             from n in Gen.Choose(20, 300)
             from k in Gen.Choose(200, 700)
             from t in Gen.Choose(0, 3)
             select (m, n, k, t)).ToArbitrary(),
            s =>
            {
                var g = GemmCase.Create(s.m + s.n + s.k, (s.t & 1) != 0, (s.t & 2) != 0, s.m, s.n, s.k, 1f, 0.5f, 1, 2, 3);
                worst = Math.Max(worst, g.Check(g.Run(threads: 2), "Auto"));
            });
        property.Check(Config.QuickThrowOnFailure.WithMaxTest(8));
        TestContext.Current.TestOutputHelper?.WriteLine($"largest relative difference {worst:G3}");
    }

    /// <summary>
    /// Products that split columns between threads and pack all of A once, shared (a small layer's weight
    /// gradient, TN), some with several column blocks of B (k large): exact within the bound, and the
    /// same bits as on one thread.
    /// </summary>
    [Theory]
    [InlineData(128, 384, 2048, true, false)]
    [InlineData(384, 1536, 3000, true, false)]
    [InlineData(200, 2500, 2000, false, true)]
    [InlineData(61, 700, 515, true, true)]
    public void Column_split_products_share_packed_A_and_match_one_thread(int m, int n, int k, bool transA, bool transB)
    {
        var g = GemmCase.Create(m + n + k, transA, transB, m, n, k, 1f, 0.5f, 1, 2, 3);
        var two = g.Run(threads: 2);
        g.Check(two, "2 threads");
        Assert.Equal(g.Run(threads: 1), two);
    }
}
