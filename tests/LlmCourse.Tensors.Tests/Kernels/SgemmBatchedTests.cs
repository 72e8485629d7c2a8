using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// <see cref="Sgemm.MultiplyBatched"/>: every product of the batch against the product computed in
/// double (same tolerance as <see cref="GemmCase"/>), for each way the batch can be run: one product
/// per task (small products), one after another (large ones), folded into one taller product
/// (B shared, A and C contiguous), with stride-0 broadcast of A or B and interleaved C.
/// </summary>
public class SgemmBatchedTests
{
    sealed record Batch(int Count, bool TransA, bool TransB, int M, int N, int K, int Lda, int Ldb, int Ldc,
        long StrideA, long StrideB, long StrideC, float[] A, float[] B, float[] C, float Alpha, float Beta);

    static Batch Create(int seed, int count, bool transA, bool transB, int m, int n, int k,
        bool broadcastA = false, bool broadcastB = false, bool interleaveC = false, float alpha = 1f, float beta = 0f, int pad = 1)
    {
        var random = new Random(seed);
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad;
        long strideA = broadcastA ? 0 : (long)(transA ? k : m) * lda + 3;
        long strideB = broadcastB ? 0 : (long)(transB ? n : k) * ldb + 5;
        // Interleaved C: product i owns columns [i n, (i + 1) n) of each row, like [T, H, D] from [H] products.
        var ldc = interleaveC ? count * n : n + pad;
        long strideC = interleaveC ? n : (long)m * ldc + 2;
        float[] Fill(long length) => Enumerable.Range(0, (int)length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Fill((count - 1) * strideA + (long)(transA ? k : m) * lda);
        var b = Fill((count - 1) * strideB + (long)(transB ? n : k) * ldb);
        var c = Fill((count - 1) * strideC + (long)m * ldc);
        if (beta == 0f) Array.Fill(c, float.NaN);
        return new Batch(count, transA, transB, m, n, k, lda, ldb, ldc, strideA, strideB, strideC, a, b, c, alpha, beta);
    }

    static double RunAndCheck(Batch s, int threads = 0, SgemmPath path = SgemmPath.Auto)
    {
        var c = (float[])s.C.Clone();
        Sgemm.MultiplyBatched(new SgemmOptions(path, threads == 0 ? KernelThreads.MaxThreads : threads), s.Count,
            s.TransA, s.TransB, s.M, s.N, s.K, s.Alpha, s.A, s.Lda, s.StrideA, s.B, s.Ldb, s.StrideB, s.Beta, c, s.Ldc, s.StrideC);
        var worst = 0.0;
        for (var item = 0; item < s.Count; item++)
        {
            // Each product of the batch, checked as a single GemmCase on its slices.
            var g = new GemmCase
            {
                TransA = s.TransA, TransB = s.TransB, M = s.M, N = s.N, K = s.K, Lda = s.Lda, Ldb = s.Ldb, Ldc = s.Ldc,
                Alpha = s.Alpha, Beta = s.Beta, OwnsRowPadding = s.StrideC >= (long)(s.M - 1) * s.Ldc + s.N,
                A = s.A[(int)(item * s.StrideA)..], B = s.B[(int)(item * s.StrideB)..], C = s.C[(int)(item * s.StrideC)..],
            };
            worst = Math.Max(worst, g.CheckProduct(c[(int)(item * s.StrideC)..], $"batch item {item}"));
        }
        return worst;
    }

    public static TheoryData<bool, bool> Transposes() => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory, MemberData(nameof(Transposes))]
    public void Attention_sized_batches_run_one_product_per_task(bool transA, bool transB)
    {
        // 24 products of 37 x 20 x 37: each too small to split, the batch big enough to share out.
        var worst = RunAndCheck(Create(1, 24, transA, transB, 37, 20, 37, beta: 0.5f));
        worst = Math.Max(worst, RunAndCheck(Create(2, 24, transA, transB, 64, 64, 32)));
        TestContext.Current.TestOutputHelper?.WriteLine($"largest relative difference {worst:G3}");
    }

    [Theory, MemberData(nameof(Transposes))]
    public void Stride_zero_broadcasts_one_operand(bool transA, bool transB)
    {
        var worst = RunAndCheck(Create(3, 5, transA, transB, 30, 41, 50, broadcastA: true));
        worst = Math.Max(worst, RunAndCheck(Create(4, 5, transA, transB, 30, 41, 50, broadcastB: true, alpha: 2f, beta: 1f)));
        worst = Math.Max(worst, RunAndCheck(Create(5, 3, transA, transB, 9, 7, 300, broadcastA: true, broadcastB: true)));
        TestContext.Current.TestOutputHelper?.WriteLine($"largest relative difference {worst:G3}");
    }

    [Fact]
    public void Shared_B_with_contiguous_A_and_C_is_one_taller_product()
    {
        // strideA == m * lda and strideC == m * ldc with B broadcast: the fold path.
        var random = new Random(6);
        int count = 4, m = 33, n = 70, k = 90;
        var s = Create(6, count, false, true, m, n, k, broadcastB: true, pad: 0) with { StrideA = (long)m * k, StrideC = (long)m * n };
        s = s with
        {
            A = Enumerable.Range(0, count * m * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
            C = Enumerable.Repeat(float.NaN, count * m * n).ToArray(),
        };
        TestContext.Current.TestOutputHelper?.WriteLine($"largest relative difference {RunAndCheck(s):G3}");
    }

    [Fact]
    public void Many_products_too_large_to_be_small_are_shared_out()
    {
        // 8 products of 2.1 MFLOP each: above the single-thread size, but 4 per thread.
        var worst = RunAndCheck(Create(13, 8, false, false, 128, 128, 65, beta: 1f));
        worst = Math.Max(worst, RunAndCheck(Create(14, 8, true, true, 128, 128, 65)));
        TestContext.Current.TestOutputHelper?.WriteLine($"largest relative difference {worst:G3}");
    }

    [Fact]
    public void Large_products_and_interleaved_C()
    {
        var worst = RunAndCheck(Create(7, 2, false, true, 150, 130, 300, beta: 1f));
        worst = Math.Max(worst, RunAndCheck(Create(8, 6, false, false, 40, 16, 40, interleaveC: true)));
        worst = Math.Max(worst, RunAndCheck(Create(9, 4, true, false, 1, 33, 20)));   // m = 1: GEMV per item
        worst = Math.Max(worst, RunAndCheck(Create(10, 4, false, false, 33, 1, 20)));  // n = 1
        TestContext.Current.TestOutputHelper?.WriteLine($"largest relative difference {worst:G3}");
    }

    [Theory]
    [InlineData("Vector512")]
    [InlineData("Vector256")]
    [InlineData("Vector128")]
    [InlineData("Scalar")]
    public void Each_path_batched(string pathName)
    {
        var path = SgemmTests.Parse(pathName);
        var worst = RunAndCheck(Create(11, 16, false, true, 29, 23, 31, beta: 0.5f), path: path);
        worst = Math.Max(worst, RunAndCheck(Create(12, 16, true, false, 29, 23, 31, broadcastA: true), path: path));
        TestContext.Current.TestOutputHelper?.WriteLine($"{pathName}: largest relative difference {worst:G3}");
    }

    [Fact]
    public void Empty_batches_and_products_write_nothing()
    {
        var c = new[] { 7f, 7f };
        Sgemm.MultiplyBatched(0, false, false, 1, 1, 1, 1f, [1f], 1, 1, [1f], 1, 1, 0f, c, 1, 1);
        Sgemm.MultiplyBatched(2, false, false, 0, 1, 1, 1f, [], 1, 1, [1f, 1f], 1, 1, 0f, c, 1, 1);
        Assert.Equal([7f, 7f], c);
    }
}
