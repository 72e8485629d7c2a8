using System.Numerics.Tensors;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Fused kernels over rows (the last dim of a contiguous tensor): softmax, log-softmax, cross-entropy,
/// layer norm and RMS norm, forward and backward. One pass per row instead of the five to ten
/// tensors the composite versions (<see cref="Composite"/>) allocate; rows are split over threads.
/// Letters: N rows, C classes / features.
/// </summary>
internal sealed partial class CpuBackend
{
    /// <summary>Runs <paramref name="rowKernel"/> over rows [0, rows), in parallel when the work is large.</summary>
    static void ForRows(int rows, int n, Action<int, int> rowKernel)
    {
        var work = (long)rows * n;
        if (work < ParallelThreshold || rows == 1) rowKernel(0, rows);
        else CpuParallel.For(rows, Math.Max(1, CpuParallel.Grain(work, 4 * Block) / Math.Max(n, 1)), new RowsBody(rowKernel));
    }

    sealed class RowsBody(Action<int, int> kernel) : IRangeBody
    {
        public void Run(long start, long end) => kernel((int)start, (int)end);
    }

    public override void Softmax(Tensor x, Tensor y, bool log)
    {
        var n = x.shape[^1];
        var rows = n == 0 ? 0 : (int)(x.Count / n);
        ForRows(rows, n, (start, end) =>
        {
            var xs = Floats(x);
            var ys = Floats(y);
            for (var r = start; r < end; r++)
            {
                var row = xs.Slice(r * n, n);
                var output = ys.Slice(r * n, n);
                var max = TensorPrimitives.Max(row);
                if (log)
                {
                    // x - max - log(sum(exp(x - max))), exponentials in blocks of scratch
                    TensorPrimitives.Subtract(row, max, output);
                    var sum = SumExp(output);
                    TensorPrimitives.Subtract(output, MathF.Log(sum), output);
                }
                else
                {
                    var sum = FastExp.ExpSum(row, max, output);
                    TensorPrimitives.Divide(output, sum, output);
                }
            }
        });
    }

    /// <summary>Sum of exp over a row, through a stack block so the row itself is not overwritten.</summary>
    static float SumExp(ReadOnlySpan<float> shifted)
    {
        Span<float> block = stackalloc float[Math.Min(Block, Math.Max(shifted.Length, 1))];
        var sum = 0f;
        for (var s = 0; s < shifted.Length; s += block.Length)
        {
            var len = Math.Min(block.Length, shifted.Length - s);
            sum += FastExp.ExpSum(shifted.Slice(s, len), 0f, block[..len]);
        }
        return sum;
    }

    public override void SoftmaxBackward(Tensor y, Tensor gy, Tensor gx, bool log)
    {
        var n = y.shape[^1];
        var rows = n == 0 ? 0 : (int)(y.Count / n);
        ForRows(rows, n, (start, end) =>
        {
            var ys = Floats(y);
            var gys = Floats(gy);
            var gxs = Floats(gx);
            Span<float> block = stackalloc float[Math.Min(Block, Math.Max(n, 1))];
            for (var r = start; r < end; r++)
            {
                var yr = ys.Slice(r * n, n);
                var gyr = gys.Slice(r * n, n);
                var gxr = gxs.Slice(r * n, n);
                if (log)
                {
                    // gx = gy - softmax * sum(gy), softmax = exp(log-softmax)
                    var sum = TensorPrimitives.Sum(gyr);
                    for (var s = 0; s < n; s += block.Length)
                    {
                        var len = Math.Min(block.Length, n - s);
                        FastExp.Exp(yr.Slice(s, len), block[..len]);
                        TensorPrimitives.MultiplyAdd(block[..len], -sum, gyr.Slice(s, len), gxr.Slice(s, len));
                    }
                }
                else
                {
                    // gx = y * (gy - sum(gy * y))
                    var dot = TensorPrimitives.Dot(gyr, yr);
                    TensorPrimitives.Subtract(gyr, dot, gxr);
                    TensorPrimitives.Multiply(gxr, yr, gxr);
                }
            }
        });
    }

    public override void CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex, float labelSmoothing, Tensor losses, Tensor logSumExp)
    {
        var classes = logits.shape[^1];
        var rows = (int)targets.Count;
        ForRows(rows, classes, (start, end) =>
        {
            var xs = Floats(logits);
            var tsr = Ints(targets);
            var ls = Floats(losses);
            var lse = Floats(logSumExp);
            Span<float> block = stackalloc float[Math.Min(Block, Math.Max(classes, 1))];
            for (var r = start; r < end; r++)
            {
                var row = xs.Slice(r * classes, classes);
                var max = TensorPrimitives.Max(row);
                var sum = 0f;
                for (var s = 0; s < classes; s += block.Length)
                {
                    var len = Math.Min(block.Length, classes - s);
                    sum += FastExp.ExpSum(row.Slice(s, len), max, block[..len]);
                }
                var logSum = MathF.Log(sum);
                lse[r] = max + logSum;
                var t = tsr[r];
                if (t == ignoreIndex)
                {
                    ls[r] = 0f;
                    continue;
                }
                // -log_softmax(x)[t], computed as PyTorch does: -((x_t - max) - log sum)
                var nll = -((row[t] - max) - logSum);
                if (labelSmoothing == 0f) ls[r] = nll;
                else
                {
                    // Smoothed target: (1 - eps) on the class, eps / C everywhere: mean over classes of -log p.
                    var meanNll = -(TensorPrimitives.Sum(row) / classes - max - logSum);
                    ls[r] = (1f - labelSmoothing) * nll + labelSmoothing * meanNll;
                }
            }
        });
    }

    public override void CrossEntropyBackward(Tensor logits, Tensor targets, Tensor logSumExp, Tensor gradLosses,
        int ignoreIndex, float labelSmoothing, Tensor gradLogits)
    {
        var classes = logits.shape[^1];
        var rows = (int)targets.Count;
        ForRows(rows, classes, (start, end) =>
        {
            var xs = Floats(logits);
            var ts = Ints(targets);
            var lse = Floats(logSumExp);
            var g = Floats(gradLosses);
            var gx = Floats(gradLogits);
            for (var r = start; r < end; r++)
            {
                var output = gx.Slice(r * classes, classes);
                var t = ts[r];
                if (t == ignoreIndex)
                {
                    output.Clear();
                    continue;
                }
                // softmax - smoothed one-hot, scaled by the row's upstream gradient
                FastExp.ExpSum(xs.Slice(r * classes, classes), lse[r], output);
                if (labelSmoothing != 0f) TensorPrimitives.Subtract(output, labelSmoothing / classes, output);
                output[t] -= 1f - labelSmoothing;
                TensorPrimitives.Multiply(output, g[r], output);
            }
        });
    }

    public override void LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float eps, bool rms, Tensor y, Tensor mean, Tensor rstd)
    {
        var n = x.shape[^1];
        var rows = n == 0 ? 0 : (int)(x.Count / n);
        ForRows(rows, n, (start, end) =>
        {
            var xs = Floats(x);
            var ys = Floats(y);
            var ms = Floats(mean);
            var rs = Floats(rstd);
            var w = weight is null ? default : Floats(weight);
            var b = bias is null ? default : Floats(bias);
            for (var r = start; r < end; r++)
            {
                var row = xs.Slice(r * n, n);
                var output = ys.Slice(r * n, n);
                float mu = 0f, variance;
                if (rms) variance = TensorPrimitives.SumOfSquares(row) / n;
                else
                {
                    mu = TensorPrimitives.Sum(row) / n;
                    TensorPrimitives.Subtract(row, mu, output);
                    variance = TensorPrimitives.SumOfSquares<float>(output) / n; // biased, like PyTorch
                }
                var inv = 1f / MathF.Sqrt(variance + eps);
                ms[r] = mu;
                rs[r] = inv;
                if (rms) TensorPrimitives.Multiply(row, inv, output);
                else TensorPrimitives.Multiply(output, inv, output);
                if (weight is not null) TensorPrimitives.Multiply(output, w, output);
                if (bias is not null) TensorPrimitives.Add(output, b, output);
            }
        });
    }

    /// <summary>Rows per partial sum of the weight/bias gradients: fixed, so the summation order never changes.</summary>
    const int NormRowsPerChunk = 32;

    public override void LayerNormBackward(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor gy, bool rms,
        Tensor gx, Tensor? gWeight, Tensor? gBias)
    {
        var n = x.shape[^1];
        var rows = n == 0 ? 0 : (int)(x.Count / n);
        var chunks = (rows + NormRowsPerChunk - 1) / NormRowsPerChunk;
        var partialW = gWeight is null ? null : Tensor.Allocate([Math.Max(chunks, 1), n], DType.Float32, Device.Cpu, zeroed: true);
        var partialB = gBias is null ? null : Tensor.Allocate([Math.Max(chunks, 1), n], DType.Float32, Device.Cpu, zeroed: true);
        var body = new NormBackwardChunks(x, weight, mean, rstd, gy, rms, gx, partialW, partialB, n, rows);
        if ((long)rows * n < ParallelThreshold) body.Run(0, chunks);
        else CpuParallel.For(chunks, Math.Max(1, CpuParallel.Grain(chunks, 1)), body);
        if (gWeight is not null) Sum(Floats(partialW!), Math.Max(chunks, 1), n, Floats(gWeight));
        if (gBias is not null) Sum(Floats(partialB!), Math.Max(chunks, 1), n, Floats(gBias));
    }

    sealed class NormBackwardChunks(Tensor x, Tensor? weight, Tensor mean, Tensor rstd, Tensor gy, bool rms,
        Tensor gx, Tensor? partialW, Tensor? partialB, int n, int rows) : IRangeBody
    {
        public void Run(long start, long end)
        {
            var xs = Floats(x);
            var gys = Floats(gy);
            var gxs = Floats(gx);
            var ms = Floats(mean);
            var rs = Floats(rstd);
            var w = weight is null ? default : Floats(weight);
            var scratch = System.Buffers.ArrayPool<float>.Shared.Rent(2 * n);
            var xhat = scratch.AsSpan(0, n);
            var gxhat = scratch.AsSpan(n, n);
            for (var chunk = (int)start; chunk < end; chunk++)
            {
                var pw = partialW is null ? default : Floats(partialW).Slice(chunk * n, n);
                var pb = partialB is null ? default : Floats(partialB).Slice(chunk * n, n);
                var last = Math.Min(rows, (chunk + 1) * NormRowsPerChunk);
                for (var r = chunk * NormRowsPerChunk; r < last; r++)
                {
                    var row = xs.Slice(r * n, n);
                    var g = gys.Slice(r * n, n);
                    var output = gxs.Slice(r * n, n);
                    var inv = rs[r];
                    // xhat = (x - mean) / std; gxhat = gy * w
                    TensorPrimitives.Subtract(row, ms[r], xhat);
                    TensorPrimitives.Multiply(xhat, inv, xhat);
                    if (weight is not null) TensorPrimitives.Multiply(g, w, gxhat);
                    else g.CopyTo(gxhat);
                    if (!pw.IsEmpty) TensorPrimitives.MultiplyAdd(g, xhat, pw, pw);
                    if (!pb.IsEmpty) TensorPrimitives.Add(pb, g, pb);
                    // gx = inv * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)); RMS norm has no mean term.
                    var meanDot = TensorPrimitives.Dot(gxhat, xhat) / n;
                    var meanG = rms ? 0f : TensorPrimitives.Sum<float>(gxhat) / n;
                    TensorPrimitives.MultiplyAdd(xhat, -meanDot, gxhat, output);
                    TensorPrimitives.Subtract(output, meanG, output);
                    TensorPrimitives.Multiply(output, inv, output);
                }
            }
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
