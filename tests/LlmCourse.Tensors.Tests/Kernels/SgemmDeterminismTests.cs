using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// The same inputs give the same bits: twice in a row, with one thread or several, and when many
/// threads call Sgemm at once (the pool is then busy and calls run on their own thread).
/// </summary>
public class SgemmDeterminismTests
{
    static readonly int[][] Shapes = [[300, 500, 700], [1024, 96, 128], [77, 1000, 300], [8, 700, 900], [520, 1, 900], [1, 700, 650]];

    static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (var i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} differs: {expected[i]:R} vs {actual[i]:R}");
    }

    [Fact]
    public void Same_bits_twice_and_with_any_thread_count()
    {
        var seed = 0;
        foreach (var s in Shapes)
            foreach (var (transA, transB) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                var g = GemmCase.Create(seed++, transA, transB, s[0], s[1], s[2], 1f, 0.5f, padA: 1, padC: 2);
                var first = g.Run(threads: 2);
                AssertSameBits(first, g.Run(threads: 2), $"{g.Describe()}, run twice");
                AssertSameBits(first, g.Run(threads: 1), $"{g.Describe()}, 1 thread vs 2");
                AssertSameBits(first, g.Run(threads: 64), $"{g.Describe()}, 64 threads asked vs 2");
            }
    }

    [Fact]
    public void Batched_same_bits_whether_shared_out_or_not()
    {
        var random = new Random(1);
        int batch = 32, m = 48, n = 40, k = 64;
        var a = Enumerable.Range(0, batch * m * k).Select(_ => (float)random.NextDouble()).ToArray();
        var b = Enumerable.Range(0, batch * k * n).Select(_ => (float)random.NextDouble()).ToArray();
        float[] Run(int threads)
        {
            var c = new float[batch * m * n];
            Sgemm.MultiplyBatched(new SgemmOptions(SgemmPath.Auto, threads), batch, false, true, m, n, k, 1f,
                a, k, m * k, b, k, k * n, 0f, c, n, m * n);
            return c;
        }
        var parallel = Run(2);
        AssertSameBits(parallel, Run(1), "batch shared out vs one thread");
        AssertSameBits(parallel, Run(2), "batch run twice");
    }

    [Fact]
    public void Batched_large_products_same_bits_shared_out_split_or_alone()
    {
        // 8 products of 4 MFLOP: shared out whole (8 >= 4 per thread), split one by one (batch of 1),
        // or on one thread; all three must agree bit for bit.
        var random = new Random(2);
        int batch = 8, m = 128, n = 128, k = 128;
        var a = Enumerable.Range(0, batch * m * k).Select(_ => (float)random.NextDouble()).ToArray();
        var b = Enumerable.Range(0, batch * k * n).Select(_ => (float)random.NextDouble()).ToArray();
        float[] Run(int threads, bool oneByOne)
        {
            var c = new float[batch * m * n];
            var options = new SgemmOptions(SgemmPath.Auto, threads);
            if (oneByOne)
                for (var i = 0; i < batch; i++)
                    Sgemm.Multiply(options, true, false, m, n, k, 1f, a.AsSpan(i * m * k), m, b.AsSpan(i * k * n), n, 0f, c.AsSpan(i * m * n), n);
            else
                Sgemm.MultiplyBatched(options, batch, true, false, m, n, k, 1f, a, m, m * k, b, n, k * n, 0f, c, n, m * n);
            return c;
        }
        var sharedOut = Run(2, oneByOne: false);
        AssertSameBits(sharedOut, Run(2, oneByOne: true), "shared out vs each product split");
        AssertSameBits(sharedOut, Run(1, oneByOne: false), "shared out vs one thread");
    }

    [Fact]
    public void Concurrent_callers_get_the_single_threaded_bits()
    {
        var cases = Enumerable.Range(0, 8).Select(i => GemmCase.Create(50 + i, i % 2 == 0, i % 3 == 0, 200, 150 + i, 300)).ToArray();
        var expected = cases.Select(g => g.Run(threads: 1)).ToArray();
        var results = new float[cases.Length][];
        Parallel.For(0, cases.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var r = cases[i % cases.Length].Run(threads: 2);
            if (i >= cases.Length * 3) results[i % cases.Length] = r;
        });
        for (var i = 0; i < cases.Length; i++) AssertSameBits(expected[i], results[i], cases[i].Describe());
    }
}
