using System.Diagnostics;
using System.Globalization;
using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Bench;

/// <summary>
/// float32 matrix multiply, GFLOP/s: our Sgemm against numpy's matmul on OpenBLAS, both with the same
/// thread count, in the same run. Options: <c>--shape MxNxK</c> (default 1024x1024x1024),
/// <c>--trans NN|NT|TN|TT</c> (operand stored transposed), <c>--seconds S</c> per measurement,
/// <c>--rounds R</c> (ours and the anchor alternate R times; the best of each counts, since other
/// processes share the cores), <c>--course</c> (also the course's training shapes, each with its
/// backward forms), <c>--path Vector512|Vector256|Vector128|Scalar</c>.
/// </summary>
public sealed class GemmBenchmark : Benchmark
{
    public override string Name => "gemm";
    public override string Description => "float32 matmul GFLOP/s, ours vs numpy/OpenBLAS (--shape MxNxK --trans NT --course)";

    /// <summary>Linear layers of the course: x [rows, in] @ W[out, in]^T, then dX = dY @ W and dW = dY^T @ x.</summary>
    static readonly (int Rows, int In, int Out)[] CourseLinears =
        [(2048, 128, 384), (2048, 384, 128), (4096, 384, 1536), (4096, 1536, 384), (4096, 384, 384), (2048, 128, 65)];

    public override BenchResult Run(BenchOptions options)
    {
        var threads = options.Threads;
        var seconds = double.Parse(options.String("seconds", "1"), CultureInfo.InvariantCulture);
        var rounds = options.Int("rounds", 3);
        var path = Enum.Parse<SgemmPath>(options.String("path", "Auto"), ignoreCase: true);
        var sgemm = new SgemmOptions(path, threads);
        Console.WriteLine($"Sgemm path {(path == SgemmPath.Auto ? SgemmOptions.Best : path)}, {threads} threads " +
            $"({Environment.ProcessorCount} cores); best of {rounds} rounds of {seconds} s each side");

        if (options.Flag("course"))
        {
            Console.WriteLine($"{"shape (m x n x k)",-22} {"trans",5} {"ours",8} {"numpy",8} {"ratio",6}  GFLOP/s");
            foreach (var (rows, inFeatures, outFeatures) in CourseLinears)
            {
                Report((rows, outFeatures, inFeatures, "NT"), "forward  y = x W^T");
                Report((rows, inFeatures, outFeatures, "NN"), "backward dX = dY W");
                Report((outFeatures, inFeatures, rows, "TN"), "backward dW = dY^T x");
            }
            foreach (var (t, d) in new[] { (64, 32), (256, 64) })
            {
                ReportBatched(16, t, d, t, "NN", "attention P V");
                ReportBatched(16, t, t, d, "NT", "attention Q K^T");
            }
        }

        var shape = ParseShape(options.String("shape", "1024x1024x1024"));
        var trans = options.String("trans", "NN").ToUpperInvariant();
        var (ours, anchor) = Measure(shape.M, shape.N, shape.K, trans, batch: 1);
        Console.WriteLine($"{shape.M}x{shape.N}x{shape.K} {trans}: ours {ours:F1}, numpy {anchor:F1} GFLOP/s");
        return new BenchResult(Name, ours, anchor, "GFLOP/s");

        void Report((int M, int N, int K, string Trans) s, string what)
        {
            var (o, a) = Measure(s.M, s.N, s.K, s.Trans, batch: 1);
            Console.WriteLine($"{$"{s.M}x{s.N}x{s.K}",-22} {s.Trans,5} {o,8:F1} {a,8:F1} {o / a,6:F2}  {what}");
        }

        void ReportBatched(int batch, int m, int n, int k, string trans, string what)
        {
            var (o, a) = Measure(m, n, k, trans, batch);
            Console.WriteLine($"{$"{batch} x {m}x{n}x{k}",-22} {trans,5} {o,8:F1} {a,8:F1} {o / a,6:F2}  {what} (batched)");
        }

        (double Ours, double Anchor) Measure(int m, int n, int k, string trans, int batch)
        {
            double ours = 0, anchor = 0;
            for (var round = 0; round < rounds; round++)
            {
                ours = Math.Max(ours, MeasureOurs(sgemm, m, n, k, trans, batch, seconds));
                anchor = Math.Max(anchor, RunAnchor(Python, "gemm.py", $"{batch}", $"{m}", $"{n}", $"{k}", trans, $"{threads}", $"{seconds}"));
            }
            return (ours, anchor);
        }
    }

    /// <summary>Debian's python3, which has numpy on OpenBLAS (a pyenv python on the PATH may not).</summary>
    static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    static (int M, int N, int K) ParseShape(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, out var v) && v > 0))
            throw new ArgumentException($"--shape must look like 1024x1024x1024 (m x n x k), got '{text}'.");
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture),
            int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>GFLOP/s of our product, best over samples of at least 2 ms each for about `seconds`.</summary>
    static double MeasureOurs(SgemmOptions options, int m, int n, int k, string trans, int batch, double seconds)
    {
        bool transA = trans[0] == 'T', transB = trans[1] == 'T';
        var random = new Random(0);
        float[] Matrix(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var a = Matrix(batch * m * k);
        var b = Matrix(batch * k * n);
        var c = new float[batch * m * n];
        int lda = transA ? m : k, ldb = transB ? k : n;
        Action product = batch == 1
            ? () => Sgemm.Multiply(options, transA, transB, m, n, k, 1f, a, lda, b, ldb, 0f, c, n)
            : () => Sgemm.MultiplyBatched(options, batch, transA, transB, m, n, k, 1f, a, lda, (long)m * k, b, ldb, (long)k * n, 0f, c, n, (long)m * n);

        var watch = Stopwatch.StartNew();
        product();
        var once = Math.Max(watch.Elapsed.TotalSeconds, 1e-7);
        var inner = Math.Max(1, (int)(2e-3 / once));
        var repeats = Math.Max(5, (int)(seconds / (once * inner)));
        var best = BestSeconds(() => { for (var i = 0; i < inner; i++) product(); }, warmup: 3, repeats) / inner;
        return 2.0 * batch * m * n * k / best / 1e9;
    }
}
