using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu.Gemm;

/// <summary>
/// Products with one row or one column of C (m == 1 or n == 1: sampling one token at a time, a
/// single-output head). Each reads the whole matrix once and does one FMA per element read, so
/// packing would cost as much as the product itself: these run straight off the operands.
/// Two shapes of loop cover all four layouts. The output is y[j] = Σ_p x[p] M(p, j) with either
/// <list type="bullet">
/// <item>M's rows along j contiguous in p (a dot product per output), or</item>
/// <item>M's rows along p contiguous in j (y accumulates x[p] times row p, one FMA chain per output).</item>
/// </list>
/// Every output is computed the same way whatever range a thread is given, so splitting the
/// outputs between threads does not change a bit.
/// </summary>
internal static unsafe class SgemmGemv
{
    const int OutputsPerTask = 256;
    const long ParallelMacs = 1 << 18;

    [ThreadStatic] static GemvJob? job;

    /// <summary><paramref name="g"/> has M == 1 or N == 1; K &gt; 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmArgs g, SgemmPath path, int threads)
    {
        var work = job ??= new GemvJob();
        work.Width = path is SgemmPath.Vector512 or SgemmPath.Vector256 ? 8 : path == SgemmPath.Vector128 ? 4 : 1;
        work.K = g.K;
        work.Alpha = g.Alpha;
        work.Beta = g.Beta;
        float* x;
        nint xStride;
        if (g.M == 1)
        {
            // y[j] = Σ_p op(A)[0, p] op(B)[p, j]; op(B)[p, j] is b[j * ldb + p] when transposed.
            x = g.A;
            xStride = g.TransA ? g.Lda : 1;
            work.Count = g.N;
            work.Matrix = g.B;
            work.Ld = g.Ldb;
            work.DotForm = g.TransB;
            work.Y = g.C;
            work.YStride = 1;
        }
        else
        {
            // y[i] = Σ_p op(A)[i, p] op(B)[p, 0]; op(A)[i, p] is a[i * lda + p] unless transposed.
            x = g.B;
            xStride = g.TransB ? 1 : g.Ldb;
            work.Count = g.M;
            work.Matrix = g.A;
            work.Ld = g.Lda;
            work.DotForm = !g.TransA;
            work.Y = g.C;
            work.YStride = g.Ldc;
        }
        if (xStride != 1)
        {
            var gathered = SgemmScratch.PackedA.Get(g.K);
            for (var p = 0; p < g.K; p++) gathered[p] = x[p * xStride];
            x = gathered;
        }
        work.X = x;
        var tasks = (work.Count + OutputsPerTask - 1) / OutputsPerTask;
        if (threads > 1 && tasks > 1 && (long)work.Count * g.K >= ParallelMacs)
            KernelThreads.Run(work, tasks, threads);
        else
            for (var t = 0; t < tasks; t++) work.Execute(t);
    }

    sealed class GemvJob : IParallelTasks
    {
        public float* X, Matrix, Y;
        public nint Ld, YStride;
        public int K, Count, Width;
        public bool DotForm;
        public float Alpha, Beta;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int task)
        {
            var j0 = task * OutputsPerTask;
            var count = Math.Min(OutputsPerTask, Count - j0);
            var sums = stackalloc float[OutputsPerTask];
            if (DotForm)
                for (var j = 0; j < count; j++) sums[j] = Dot(X, Matrix + (nint)(j0 + j) * Ld, K, Width);
            else
                AccumulateRows(X, Matrix + j0, Ld, K, sums, count, Width);
            for (var j = 0; j < count; j++)
            {
                var y = Y + (j0 + j) * YStride;
                *y = Beta == 0f ? Alpha * sums[j] : MathF.FusedMultiplyAdd(Beta, *y, Alpha * sums[j]);
            }
        }
    }

    /// <summary>Σ_p x[p] row[p], in an order fixed by k and the vector width alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Dot(float* x, float* row, int k, int width)
    {
        var p = 0;
        var sum = 0f;
        if (width == 8)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; p + 16 <= k; p += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), Vector256.Load(row + p), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 8), Vector256.Load(row + p + 8), s1);
            }
            sum = Vector256.Sum(s0 + s1);
        }
        else if (width == 4)
        {
            Vector128<float> s0 = default, s1 = default;
            for (; p + 8 <= k; p += 8)
            {
                s0 = Vector128.FusedMultiplyAdd(Vector128.Load(x + p), Vector128.Load(row + p), s0);
                s1 = Vector128.FusedMultiplyAdd(Vector128.Load(x + p + 4), Vector128.Load(row + p + 4), s1);
            }
            sum = Vector128.Sum(s0 + s1);
        }
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], row[p], sum);
        return sum;
    }

    /// <summary>
    /// sums[j] = Σ_p x[p] rows[p * ld + j] for j &lt; count: one FMA chain per output, so a lane of a
    /// vector and the scalar tail give the same bits. Blocks of 32 outputs stay in registers for
    /// the whole of k; the rest accumulate in memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AccumulateRows(float* x, float* rows, nint ld, int k, float* sums, int count, int width)
    {
        var j0 = 0;
        if (width == 8)
        {
            for (; j0 + 32 <= count; j0 += 32)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                var row = rows + j0;
                for (var p = 0; p < k; p++, row += ld)
                {
                    var xv = Vector256.Create(x[p]);
                    s0 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(row), s0);
                    s1 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(row + 8), s1);
                    s2 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(row + 16), s2);
                    s3 = Vector256.FusedMultiplyAdd(xv, Vector256.Load(row + 24), s3);
                }
                Vector256.Store(s0, sums + j0);
                Vector256.Store(s1, sums + j0 + 8);
                Vector256.Store(s2, sums + j0 + 16);
                Vector256.Store(s3, sums + j0 + 24);
            }
        }
        new Span<float>(sums + j0, count - j0).Clear();
        rows += j0;
        for (var p = 0; p < k; p++, rows += ld)
        {
            var xp = x[p];
            var j = j0;
            if (width == 8)
            {
                var xv = Vector256.Create(xp);
                for (; j + 8 <= count; j += 8)
                    Vector256.Store(Vector256.FusedMultiplyAdd(xv, Vector256.Load(rows + j - j0), Vector256.Load(sums + j)), sums + j);
            }
            else if (width == 4)
            {
                var xv = Vector128.Create(xp);
                for (; j + 4 <= count; j += 4)
                    Vector128.Store(Vector128.FusedMultiplyAdd(xv, Vector128.Load(rows + j - j0), Vector128.Load(sums + j)), sums + j);
            }
            for (; j < count; j++) sums[j] = MathF.FusedMultiplyAdd(xp, rows[j - j0], sums[j]);
        }
    }
}
