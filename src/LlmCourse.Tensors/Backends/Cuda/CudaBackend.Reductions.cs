using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Backends.Cuda;

/// <summary>
/// Reductions over the middle axis of a contiguous [outer, size, inner] tensor, cumulative sums and
/// top-k. Each output is computed in a fixed order for a given shape (block trees, chunk sums), so
/// results repeat run after run; they differ from the CPU's in the last bits (another summation order).
/// </summary>
internal sealed partial class CudaBackend
{
    /// <summary>Rows per chunk when a few long columns are summed in two passes.</summary>
    const int ColumnChunk = 64;

    /// <summary>Elements per block when a few long rows are summed in two passes (32 per thread of 512).</summary>
    const int RowChunk = 16384;

    public override void Reduce(ReduceOp op, Tensor x, int outer, int size, int inner, Tensor y, Tensor? indices)
    {
        if ((long)outer * inner == 0) return;
        if (inner == 1 && op == ReduceOp.Sum && outer < Dev.Multiprocessors && size > 4 * RowChunk)
        {
            // A few long rows (a whole-tensor sum): chunk sums on many blocks, then the chunks in order.
            var chunks = (size + RowChunk - 1) / RowChunk;
            var partial = Temp([outer, chunks], DType.Float32);
            var parts = new KernelArgs();
            parts.Add(P(x));
            parts.Add((long)size);
            parts.Add(RowChunk);
            parts.Add(chunks);
            parts.Add(P(partial));
            Dev.Launch("reduce.cu", "sum_rows_chunked", (uint)(outer * chunks), 1, 512, 0, ref parts);
            Reduce(op, partial, outer, chunks, 1, y, null);
            return;
        }
        if (inner == 1)
        {
            var args = new KernelArgs();
            args.Add((int)op);
            args.Add(P(x));
            args.Add(size);
            args.Add(P(y));
            args.Add(Optional(indices));
            var threads = size >= 4096 ? 512 : size >= 512 ? 256 : size >= 64 ? 64 : 32;
            Dev.Launch("reduce.cu", "reduce_rows", (uint)outer, 1, (uint)threads, 0, ref args);
            return;
        }
        if (op == ReduceOp.Sum && (long)outer * inner < 16L * Dev.Multiprocessors * CudaDevice.Threads && size > 4 * ColumnChunk)
        {
            // Few outputs, long columns (a bias gradient summed over B*T rows): chunk sums first.
            var chunks = (size + ColumnChunk - 1) / ColumnChunk;
            var partial = Temp([outer, chunks, inner], DType.Float32);
            var args = new KernelArgs();
            args.Add(P(x));
            args.Add(outer);
            args.Add(size);
            args.Add(inner);
            args.Add(ColumnChunk);
            args.Add(chunks);
            args.Add(P(partial));
            Dev.LaunchElementwise("reduce.cu", "sum_columns_chunked", (long)outer * chunks * inner, ref args);
            Reduce(op, partial, outer, chunks, inner, y, null);
            return;
        }
        var cols = new KernelArgs();
        cols.Add((int)op);
        cols.Add(P(x));
        cols.Add(outer);
        cols.Add(size);
        cols.Add(inner);
        cols.Add(P(y));
        cols.Add(Optional(indices));
        Dev.LaunchElementwise("reduce.cu", "reduce_columns", (long)outer * inner, ref cols);
    }

    public override void CumSum(Tensor x, int outer, int size, int inner, Tensor y)
    {
        var args = new KernelArgs();
        args.Add(P(x));
        args.Add(outer);
        args.Add(size);
        args.Add(inner);
        args.Add(P(y));
        Dev.LaunchElementwise("reduce.cu", "cumsum", (long)outer * inner, ref args);
    }

    /// <summary>Largest k run on the GPU (k passes over the row); beyond it the rows go through the CPU backend.</summary>
    const int MaxGpuTopK = 256;

    public override void TopK(Tensor x, int k, bool largest, Tensor values, Tensor indices)
    {
        var n = x.shape[^1];
        var rows = n == 0 ? 0 : (int)(x.Count / n);
        if (rows == 0 || k == 0) return;
        if (k > MaxGpuTopK)
        {
            var hostX = x.To(Tensors.Device.Cpu);
            var hostValues = Tensor.Allocate(values.shape, DType.Float32, Tensors.Device.Cpu);
            var hostIndices = Tensor.Allocate(indices.shape, DType.Int32, Tensors.Device.Cpu);
            CpuBackend.Instance.TopK(hostX, k, largest, hostValues, hostIndices);
            Upload(hostValues.ToArray(), values);
            Upload(hostIndices.ToInt32Array(), indices);
            return;
        }
        var args = new KernelArgs();
        args.Add(P(x));
        args.Add(n);
        args.Add(k);
        args.Add(largest ? 1 : 0);
        args.Add(P(values));
        args.Add(P(indices));
        Dev.Launch("reduce.cu", "topk_rows", (uint)rows, 1, CudaDevice.Threads, 0, ref args);
    }
}
