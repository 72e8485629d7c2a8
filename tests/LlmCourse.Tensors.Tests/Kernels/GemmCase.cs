using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cpu.Gemm;

namespace LlmCourse.Tensors.Tests.Kernels;

/// <summary>
/// One product with random operands, padded leading dimensions and a C that holds NaNs (when beta
/// is 0, they must not leak through) and a sentinel beyond each row (which must stay untouched).
///
/// Tolerance: a sum of k products in float32 is within k * 2^-24 * Σ|a||b| of the exact sum
/// (the standard bound; blocked or vector sums do no worse). So for every element we check
/// <c>|ours - exact| &lt;= (k + 2) * 2^-24 * (|alpha| Σ_p |a_ip b_pj| + |beta c_ij|)</c>, the exact
/// value computed in double. An indexing bug gives an error of the order of the scale itself.
/// The largest relative difference, |ours - exact| / scale, is what tests report.
/// </summary>
internal sealed class GemmCase
{
    public const float Sentinel = 12345.5f;

    public bool TransA, TransB;
    public int M, N, K, Lda, Ldb, Ldc;
    public float Alpha, Beta;
    public float[] A = [], B = [], C = [];

    /// <summary>Whether C's rows beyond column n must be left as they were (not so for interleaved batches).</summary>
    public bool OwnsRowPadding = true;

    public static GemmCase Create(int seed, bool transA, bool transB, int m, int n, int k,
        float alpha = 1f, float beta = 0f, int padA = 0, int padB = 0, int padC = 0)
    {
        var random = new Random(seed);
        var g = new GemmCase
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            Lda = (transA ? m : k) + padA, Ldb = (transB ? k : n) + padB, Ldc = n + padC,
        };
        g.A = Fill(random, transA ? k : m, g.Lda, transA ? m : k, 0f);
        g.B = Fill(random, transB ? n : k, g.Ldb, transB ? k : n, 0f);
        g.C = Fill(random, m, g.Ldc, n, Sentinel);
        if (beta == 0f)
            for (var i = 0; i < m; i++)
                for (var j = 0; j < n; j++)
                    g.C[i * g.Ldc + j] = float.NaN;
        return g;
    }

    /// <summary>rows x ld floats, the first `columns` of each row in [-1, 1), the rest `padding`.</summary>
    static float[] Fill(Random random, int rows, int ld, int columns, float padding)
    {
        var data = new float[rows == 0 ? 0 : (rows - 1) * ld + columns];
        for (var i = 0; i < data.Length; i++)
            data[i] = i % ld < columns ? (float)(random.NextDouble() * 2 - 1) : padding;
        return data;
    }

    public float[] Run(SgemmPath path = SgemmPath.Auto, int threads = 0, bool packAlways = false)
    {
        var c = (float[])C.Clone();
        var options = new SgemmOptions(path, threads == 0 ? KernelThreads.MaxThreads : threads, packAlways);
        Sgemm.Multiply(options, TransA, TransB, M, N, K, Alpha, A, Lda, B, Ldb, Beta, c, Ldc);
        return c;
    }

    public float[] RunReference()
    {
        var c = (float[])C.Clone();
        Sgemm.Reference(TransA, TransB, M, N, K, Alpha, A, Lda, B, Ldb, Beta, c, Ldc);
        return c;
    }

    public float OpA(int i, int p) => TransA ? A[p * Lda + i] : A[i * Lda + p];
    public float OpB(int p, int j) => TransB ? B[j * Ldb + p] : B[p * Ldb + j];

    /// <summary>
    /// Checks <paramref name="ours"/> against the product computed in double and returns the largest
    /// relative difference; throws naming the first element out of tolerance, or a touched sentinel.
    /// </summary>
    public double Check(float[] ours, string label) => CheckProduct(ours, label);

    /// <summary>As <see cref="Check"/>, for a C that may be a slice of a larger array (a batch item).</summary>
    public double CheckProduct(float[] ours, string label)
    {
        var unit = Math.Pow(2, -24);
        var worst = 0.0;
        for (var i = 0; i < M; i++)
        {
            for (var j = 0; j < N; j++)
            {
                double sum = 0, magnitude = 0;
                for (var p = 0; p < K; p++)
                {
                    double product = (double)OpA(i, p) * OpB(p, j);
                    sum += product;
                    magnitude += Math.Abs(product);
                }
                var c0 = Beta == 0f ? 0.0 : C[i * Ldc + j];
                var exact = Alpha * sum + Beta * c0;
                var scale = Math.Abs(Alpha) * magnitude + Math.Abs(Beta * c0) + 1e-30;
                var got = ours[i * Ldc + j];
                var difference = Math.Abs(got - exact);
                if (!(difference <= (K + 2) * unit * scale))
                    throw new Xunit.Sdk.XunitException(
                        $"{label}: {Describe()}: C[{i},{j}] = {got}, exact {exact}, difference {difference:G3} > tolerance {(K + 2) * unit * scale:G3}");
                worst = Math.Max(worst, difference / scale);
            }
            for (var j = N; OwnsRowPadding && j < Ldc && i * Ldc + j < ours.Length; j++)
                if (ours[i * Ldc + j] != C[i * Ldc + j] && !(float.IsNaN(C[i * Ldc + j]) && float.IsNaN(ours[i * Ldc + j])))
                    throw new Xunit.Sdk.XunitException($"{label}: {Describe()}: wrote C[{i},{j}], beyond n = {N} (ldc = {Ldc}).");
        }
        return worst;
    }

    public string Describe() =>
        $"{(TransA ? "T" : "N")}{(TransB ? "T" : "N")} m={M} n={N} k={K} alpha={Alpha} beta={Beta} lda={Lda} ldb={Ldb} ldc={Ldc}";
}
