namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Index kernels: select rows by Int32 indices (embedding lookup), gather along a dim, and their
/// backward scatter-adds, which add duplicates in index order so results are deterministic.
/// Indices were bounds-checked by the op.
/// </summary>
internal sealed partial class CpuBackend
{
    /// <summary>Synchronous: throws before returning, naming the first bad value and its position.</summary>
    public override void CheckIndices(Tensor indices, int size, int? allowed, string message)
    {
        var ids = Ints(indices);
        // The vectorised range is the common, all-good case; the scan for the first bad one only runs on failure.
        var (min, max) = (System.Numerics.Tensors.TensorPrimitives.Min<int>(ids), System.Numerics.Tensors.TensorPrimitives.Max<int>(ids));
        if (min >= 0 && max < size) return;
        if (IndexCheck.FirstBad(ids, size, allowed) is { } bad)
            throw new TensorShapeException(IndexCheck.Message(message, bad.Value, bad.Position));
    }

    public override void IndexSelect(Tensor x, Tensor indices, int outer, int size, int inner, Tensor y)
    {
        var xs = Floats(x);
        var ys = Floats(y);
        var ids = Ints(indices);
        var count = ids.Length;
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < count; i++)
                xs.Slice((o * size + ids[i]) * inner, inner).CopyTo(ys.Slice((o * count + i) * inner, inner));
    }

    public override void IndexAdd(Tensor g, Tensor indices, int outer, int size, int inner, Tensor gx)
    {
        g = g.ContiguousData();
        var gs = Floats(g);
        var gxs = Floats(gx);
        var ids = Ints(indices);
        var count = ids.Length;
        for (var o = 0; o < outer; o++)
            for (var i = 0; i < count; i++)
            {
                var target = gxs.Slice((o * size + ids[i]) * inner, inner);
                System.Numerics.Tensors.TensorPrimitives.Add(target, gs.Slice((o * count + i) * inner, inner), target);
            }
    }

    public override void Gather(Tensor x, int dim, Tensor index, Tensor y)
    {
        var xs = AllFloats(x);
        var ys = Floats(y);
        var ids = Ints(index);
        var rank = index.Rank;
        Span<int> position = stackalloc int[Math.Max(rank, 1)];
        for (var flat = 0; flat < ids.Length; flat++)
        {
            Unravel(flat, index.shape, position);
            long o = x.offset;
            for (var d = 0; d < rank; d++) o += (long)(d == dim ? ids[flat] : position[d]) * x.strides[d];
            ys[flat] = xs[(int)o];
        }
    }

    public override void ScatterAdd(Tensor g, int dim, Tensor index, Tensor gx)
    {
        g = g.ContiguousData();
        var gs = Floats(g);
        var gxs = Floats(gx);
        var ids = Ints(index);
        var rank = index.Rank;
        Span<int> position = stackalloc int[Math.Max(rank, 1)];
        for (var flat = 0; flat < ids.Length; flat++)
        {
            Unravel(flat, index.shape, position);
            long o = 0;
            for (var d = 0; d < rank; d++) o += (long)(d == dim ? ids[flat] : position[d]) * gx.strides[d];
            gxs[(int)o] += gs[flat];
        }
    }

    static void Unravel(long flat, int[] shape, Span<int> position)
    {
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            position[d] = (int)(flat % shape[d]);
            flat /= shape[d];
        }
    }
}
