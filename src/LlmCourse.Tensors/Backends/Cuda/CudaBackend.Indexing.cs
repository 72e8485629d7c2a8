using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Index kernels: select rows (embedding lookup), gather along a dim, and the backward scatter-adds.
/// The scatter-adds use no atomics: the index list is grouped by target on the host (it is small:
/// B*T token ids) and each target adds its contributions in index order, as the CPU backend does, so
/// the gradients are the CPU's bits and repeat run after run. Indices were bounds-checked by the op.
/// </summary>
internal sealed partial class CudaBackend
{
    public override void IndexSelect(Tensor x, Tensor indices, int outer, int size, int inner, Tensor y)
    {
        var count = (int)indices.Count;
        var args = new KernelArgs();
        args.Add(P(x));
        args.Add(P(indices));
        args.Add(outer);
        args.Add(size);
        args.Add(inner);
        args.Add(count);
        args.Add(P(y));
        Dev.LaunchElementwise("indexing.cu", "index_select", (long)outer * count * inner, ref args);
    }

    public override void IndexAdd(Tensor g, Tensor indices, int outer, int size, int inner, Tensor gx)
    {
        g = ContiguousAs(g, DType.Float32);
        var ids = indices.ToInt32Array();
        if (ids.Length == 0) return;
        // CSR of the index list: the distinct targets, and for each its positions in index order.
        var order = Enumerable.Range(0, ids.Length).ToArray();
        Array.Sort(order, (i, j) => ids[i] != ids[j] ? ids[i].CompareTo(ids[j]) : i.CompareTo(j));
        var rows = new List<int>();
        var starts = new List<int>();
        for (var p = 0; p < order.Length; p++)
            if (p == 0 || ids[order[p]] != ids[order[p - 1]])
            {
                rows.Add(ids[order[p]]);
                starts.Add(p);
            }
        starts.Add(order.Length);
        var groups = rows.Count;
        var rowsT = Tensor.FromArray(rows.ToArray(), [groups], device);
        var startsT = Tensor.FromArray(starts.ToArray(), [groups + 1], device);
        var positionsT = Tensor.FromArray(order, [order.Length], device);
        var args = new KernelArgs();
        args.Add(P(g));
        args.Add(P(rowsT));
        args.Add(P(startsT));
        args.Add(P(positionsT));
        args.Add(groups);
        args.Add(outer);
        args.Add(size);
        args.Add(inner);
        args.Add(ids.Length);
        args.Add(P(gx));
        Dev.LaunchElementwise("indexing.cu", "index_add_grouped", (long)outer * groups * inner, ref args);
    }

    public override void Gather(Tensor x, int dim, Tensor index, Tensor y)
    {
        index = ContiguousAs(index, DType.Int32);
        var args = new KernelArgs();
        args.Add(CudaLayout.Raw(index.shape, x.offset, x.strides));
        args.Add(Base(x));
        args.Add(dim);
        args.Add(P(index));
        args.Add(P(y));
        args.Add(y.Count);
        Dev.LaunchElementwise("indexing.cu", "gather_dim", y.Count, ref args);
    }

    public override void ScatterAdd(Tensor g, int dim, Tensor index, Tensor gx)
    {
        g = ContiguousAs(g, DType.Float32);
        index = ContiguousAs(index, DType.Int32);
        if (index.Count == 0) return;
        var args = new KernelArgs();
        args.Add(ScatterLayout(gx.shape, index.shape));
        args.Add(P(g));
        args.Add(dim);
        args.Add(P(index));
        args.Add(P(gx));
        args.Add(gx.Count);
        Dev.LaunchElementwise("indexing.cu", "scatter_add_dim", gx.Count, ref args);
    }

    /// <summary>
    /// scatter_add_dim's layout: gx's shape, the index's extents (stride row 1) and its row-major strides
    /// (row 2). A 0-d gx and index (gather on a scalar: Max or TopK of a 0-d tensor) are seen as [1], since
    /// the kernel walks at least one dim and reads the index's extent there: left 0, no element was added.
    /// </summary>
    internal static CudaLayout ScatterLayout(int[] gxShape, int[] indexShape)
    {
        if (gxShape.Length == 0) gxShape = [1];
        if (indexShape.Length == 0) indexShape = [1];
        return CudaLayout.Raw(gxShape, 0, new int[gxShape.Length], indexShape, Shapes.ContiguousStrides(indexShape));
    }
}
