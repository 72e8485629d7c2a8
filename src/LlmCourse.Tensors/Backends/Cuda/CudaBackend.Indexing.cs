using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Index kernels: the deferred bounds check, select rows (embedding lookup), gather along a dim, and the
/// backward scatter-adds. Nothing here waits for the GPU: the check records a bad index in the device's
/// error slot, reported at the next read-back (<see cref="CudaDeviceAsserts"/>), and the kernels read a
/// bad index as nothing meanwhile. The scatter-adds use no float atomics: IndexAdd groups the index list
/// by target with a counting sort on the device and each target adds its contributions in index order,
/// as the CPU backend does, so the gradients are the CPU's bits and repeat run after run.
/// </summary>
internal sealed partial class CudaBackend
{
    public override void CheckIndices(Tensor indices, int size, int? allowed, string message)
    {
        var (slot, launch, check) = Dev.Asserts.Arm(message);
        var args = new KernelArgs();
        args.Add(P(indices));
        args.Add(indices.Count);
        args.Add(size);
        args.Add(allowed ?? 0);
        args.Add(allowed.HasValue ? 1 : 0);
        args.Add(slot);
        args.Add(launch);
        args.Add(check);
        Dev.LaunchElementwise("indexing.cu", "check_indices", indices.Count, ref args);
    }

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

    /// <summary>Threads of exclusive_scan_block (its shared array's length).</summary>
    const int ScanThreads = 1024;

    /// <summary>
    /// gx += g at the ids, grouped on the device (indexing.cu, steps 1 to 5): counts per id, their exclusive
    /// scan (each id's first slot), the positions bucketed by id, each bucket put in ascending order, then
    /// every row of gx adds its positions' rows of g in that order. No read-back, no float atomics.
    /// </summary>
    public override void IndexAdd(Tensor g, Tensor indices, int outer, int size, int inner, Tensor gx)
    {
        var count = (int)indices.Count;
        if (count == 0 || size == 0) return;
        g = ContiguousAs(g, DType.Float32);
        indices = ContiguousAs(indices, DType.Int32);
        var counts = Temp([size], DType.Int32, zeroed: true);
        var cursor = Temp([size], DType.Int32, zeroed: true);
        var starts = Temp([size + 1], DType.Int32);
        var unordered = Temp([count], DType.Int32);
        var positions = Temp([count], DType.Int32);

        var histogram = new KernelArgs();
        histogram.Add(P(indices));
        histogram.Add(count);
        histogram.Add(size);
        histogram.Add(P(counts));
        Dev.LaunchElementwise("indexing.cu", "index_histogram", count, ref histogram);

        var scan = new KernelArgs();
        scan.Add(P(counts));
        scan.Add(size);
        scan.Add(P(starts));
        Dev.Launch("indexing.cu", "exclusive_scan_block", 1, 1, ScanThreads, 0, ref scan);

        var bucket = new KernelArgs();
        bucket.Add(P(indices));
        bucket.Add(count);
        bucket.Add(size);
        bucket.Add(P(starts));
        bucket.Add(P(cursor));
        bucket.Add(P(unordered));
        Dev.LaunchElementwise("indexing.cu", "index_bucket", count, ref bucket);

        var rank = new KernelArgs();
        rank.Add(P(indices));
        rank.Add(count);
        rank.Add(size);
        rank.Add(P(starts));
        rank.Add(P(unordered));
        rank.Add(P(positions));
        Dev.LaunchElementwise("indexing.cu", "index_rank", count, ref rank);

        var add = new KernelArgs();
        add.Add(P(g));
        add.Add(P(starts));
        add.Add(P(positions));
        add.Add(outer);
        add.Add(size);
        add.Add(inner);
        add.Add(count);
        add.Add(P(gx));
        Dev.LaunchElementwise("indexing.cu", "index_add_sorted", (long)outer * size * inner, ref add);
    }

    public override void Gather(Tensor x, int dim, Tensor index, Tensor y)
    {
        index = ContiguousAs(index, DType.Int32);
        var args = new KernelArgs();
        args.Add(CudaLayout.Raw(index.shape, x.offset, x.strides));
        args.Add(Base(x));
        args.Add(dim);
        args.Add(x.Rank == 0 ? 1 : x.shape[dim]);
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
