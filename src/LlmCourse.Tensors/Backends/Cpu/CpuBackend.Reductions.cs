using System.Numerics.Tensors;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Reductions over the middle axis of a contiguous [outer, size, inner] tensor. Each output element
/// is summed by one thread in a fixed order, so results do not depend on the thread count.
/// </summary>
internal sealed partial class CpuBackend
{
    public override void Reduce(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor y, Tensor? indices)
    {
        var work = (long)outer * size * inner;
        if (work < ParallelThreshold) ReduceBody.RunRange(op, x, size, inner, y, indices, 0, outer);
        else if (outer > 1) CpuParallel.For(outer, Math.Max(1, CpuParallel.Grain(work, 4 * Block) / ((long)size * inner)), new ReduceBody(op, x, size, inner, y, indices));
        else if (op == ReduceOp.Sum && inner >= 256)
        {
            // One output row (a bias gradient: [B*T, C] summed over rows): split the columns, each
            // thread adding all rows of its columns in row order, so the sums do not depend on threads.
            CpuParallel.For(inner, 64, new ColumnSumBody(x, size, inner, y));
        }
        else ReduceBody.RunRange(op, x, size, inner, y, indices, 0, outer);
    }

    sealed class ColumnSumBody(Tensor x, int size, int inner, Tensor y) : IRangeBody
    {
        public void Run(long start, long end)
        {
            var xs = Floats(x);
            var result = Floats(y).Slice((int)start, (int)(end - start));
            xs.Slice((int)start, result.Length).CopyTo(result);
            for (var r = 1; r < size; r++) TensorPrimitives.Add(result, xs.Slice(r * inner + (int)start, result.Length), result);
        }
    }

    sealed class ReduceBody(ReduceOp op, Tensor x, int size, int inner, Tensor y, Tensor? indices) : IRangeBody
    {
        public void Run(long start, long end) => RunRange(op, x, size, inner, y, indices, start, end);

        public static void RunRange(ReduceOp op, Tensor x, int size, int inner, Tensor y, Tensor? indices, long start, long end)
        {
            var xs = Floats(x);
            var ys = Floats(y);
            var ids = indices is null ? default : Ints(indices);
            for (var o = (int)start; o < end; o++)
            {
                var block = xs.Slice(o * size * inner, size * inner);
                var result = ys.Slice(o * inner, inner);
                if (op == ReduceOp.Sum) Sum(block, size, inner, result);
                else MaxOrMin(op == ReduceOp.Max, block, size, inner, result, indices is null ? default : ids.Slice(o * inner, inner));
            }
        }
    }

    static void Sum(ReadOnlySpan<float> block, int size, int inner, Span<float> result)
    {
        if (inner == 1)
        {
            result[0] = TensorPrimitives.Sum(block);
            return;
        }
        if (size == 0)
        {
            result.Clear();
            return;
        }
        block[..inner].CopyTo(result);
        for (var r = 1; r < size; r++) TensorPrimitives.Add(result, block.Slice(r * inner, inner), result);
    }

    /// <summary>Max/min with the index of the first extreme value; a NaN wins (and propagates), like PyTorch.</summary>
    static void MaxOrMin(bool max, ReadOnlySpan<float> block, int size, int inner, Span<float> result, Span<int> indices)
    {
        if (inner == 1)
        {
            var i = max ? TensorPrimitives.IndexOfMax(block) : TensorPrimitives.IndexOfMin(block);
            // IndexOfMax prefers +0 over -0; PyTorch takes the first of equal values, so walk back to it.
            var v = block[i];
            if (!float.IsNaN(v))
                for (var j = 0; j < i; j++)
                    if (block[j] == v) { i = j; break; }
            result[0] = block[i];
            if (!indices.IsEmpty) indices[0] = i;
            return;
        }
        block[..inner].CopyTo(result);
        if (!indices.IsEmpty) indices.Clear();
        for (var r = 1; r < size; r++)
        {
            var row = block.Slice(r * inner, inner);
            for (var j = 0; j < inner; j++)
            {
                float v = row[j], best = result[j];
                var better = max ? v > best : v < best;
                if (better || (float.IsNaN(v) && !float.IsNaN(best)))
                {
                    result[j] = v;
                    if (!indices.IsEmpty) indices[j] = r;
                }
            }
        }
    }

    public override void CumSum(Tensor x, int outer, int size, int inner, Tensor y)
    {
        // Accumulates in double like PyTorch's CPU kernel, so long sums do not drift.
        var xs = Floats(x);
        var ys = Floats(y);
        var acc = new double[inner];
        for (var o = 0; o < outer; o++)
        {
            Array.Clear(acc);
            var baseIndex = o * size * inner;
            for (var r = 0; r < size; r++)
                for (var j = 0; j < inner; j++)
                {
                    var at = baseIndex + r * inner + j;
                    acc[j] += xs[at];
                    ys[at] = (float)acc[j];
                }
        }
    }

    public override void TopK(Tensor x, int k, bool largest, Tensor values, Tensor indices)
    {
        var n = x.shape[^1];
        var rows = n == 0 ? 0 : (int)(x.Count / n);
        var xs = Floats(x);
        var vs = Floats(values);
        var ids = Ints(indices);
        var order = new int[k <= 64 ? k : n];
        for (var r = 0; r < rows; r++)
        {
            var row = xs.Slice(r * n, n);
            if (k <= 64) TopKSmall(row, k, largest, order);
            else
            {
                for (var i = 0; i < n; i++) order[i] = i;
                var copy = row.ToArray();
                Array.Sort(order, (i, j) => Before(copy[i], i, copy[j], j, largest) ? -1 : Before(copy[j], j, copy[i], i, largest) ? 1 : 0);
            }
            for (var i = 0; i < k; i++)
            {
                vs[r * k + i] = row[order[i]];
                ids[r * k + i] = order[i];
            }
        }
    }

    /// <summary>
    /// The k best of a row kept sorted in <paramref name="best"/> by insertion: one comparison per
    /// element against the current k-th, so sampling's top-k over a 50k vocabulary costs one pass.
    /// </summary>
    static void TopKSmall(ReadOnlySpan<float> row, int k, bool largest, Span<int> best)
    {
        var count = 0;
        for (var i = 0; i < row.Length; i++)
        {
            var v = row[i];
            if (count == k && !Before(v, i, row[best[k - 1]], best[k - 1], largest)) continue;
            var at = count < k ? count++ : k - 1;
            while (at > 0 && Before(v, i, row[best[at - 1]], best[at - 1], largest))
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = i;
        }
    }

    /// <summary>Whether (a, i) ranks before (b, j): larger (or smaller) first, NaN counting as the largest, ties by index.</summary>
    static bool Before(float a, int i, float b, int j, bool largest)
    {
        var c = CompareWithNaNLargest(a, b);
        if (!largest) c = -c;
        return c > 0 || (c == 0 && i < j);
    }

    static int CompareWithNaNLargest(float a, float b)
    {
        if (float.IsNaN(a)) return float.IsNaN(b) ? 0 : 1;
        if (float.IsNaN(b)) return -1;
        return a.CompareTo(b);
    }
}
