namespace LlmCourse.Tensors;

/// <summary>
/// Picking elements by Int32 indices: whole slices along a dim (<see cref="IndexSelect"/>, the
/// embedding lookup) or one element per position (<see cref="Gather"/>). Their gradients add the
/// incoming gradient back at the indices, duplicates accumulating (scatter-add).
/// </summary>
public sealed partial class Tensor
{
    /// <summary>Slices at <paramref name="indices"/> (1-D Int32) along <paramref name="dim"/>, in index order.</summary>
    /// <remarks>
    /// An index outside the dim is a <see cref="TensorShapeException"/> naming it and its position. On a GPU it is
    /// reported at the next read-back (Item, ToArray, Cuda.Synchronize), as PyTorch's device-side asserts are:
    /// the step does not wait for the GPU to check the ids.
    /// </remarks>
    public Tensor IndexSelect(int dim, Tensor indices) => IndexSelect(dim, indices, outOfRange: null);

    /// <summary><see cref="IndexSelect(int, Tensor)"/> with the op's own out-of-range message (see <see cref="IndexCheck"/>).</summary>
    internal Tensor IndexSelect(int dim, Tensor indices, string? outOfRange)
    {
        SameDevice("IndexSelect", this, indices);
        var d = Shapes.Dim(dim, Rank, "IndexSelect");
        if (indices.Rank > 1) throw new TensorShapeException($"IndexSelect: indices must be 0-d or 1-D, got shape {Shapes.Format(indices.shape)}");
        var ids = CheckIndices(indices, Rank == 0 ? 1 : shape[d], "IndexSelect", $"dim {d} of size {(Rank == 0 ? 1 : shape[d])}", outOfRange);
        var x = FloatInput("IndexSelect").ContiguousData();
        var source = Rank == 0 ? x.AsView([1], [1], x.offset) : x;
        var (outer, size, inner) = Split3(source.shape, Rank == 0 ? 0 : d, Rank == 0 ? 0 : d);
        var outShape = (int[])source.shape.Clone();
        outShape[Rank == 0 ? 0 : d] = (int)ids.Count;
        var y = Allocate(outShape, DType.Float32, Device);
        Backend.IndexSelect(source, ids, outer, size, inner, y);
        if (Autograd.Needs(this)) y.SetGradFn(new IndexSelectBackward(this, ids, outer, size, inner));
        return y;
    }

    sealed class IndexSelectBackward(Tensor x, Tensor indices, int outer, int size, int inner) : Node("IndexSelectBackward", x)
    {
        Tensor? indices = indices;
        readonly int[] inputShape = x.shape;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var g = Zeros(inputShape, DType.Float32, gy.Device);
            gy.Backend.IndexAdd(gy, Saved(indices), outer, size, inner, g);
            gx[0] = g;
        }

        protected override void ReleaseSaved() => indices = null;
    }

    /// <summary>
    /// <c>y[i][j][k] = x[i][index[i][j][k]][k]</c> for dim 1 (likewise for any dim): index has this
    /// tensor's rank, and no larger sizes than it outside <paramref name="dim"/>; y has index's shape.
    /// </summary>
    /// <remarks>An index outside the dim is reported as <see cref="IndexSelect(int, Tensor)"/>'s is (on a GPU, at the next read-back).</remarks>
    public Tensor Gather(int dim, Tensor index)
    {
        SameDevice("Gather", this, index);
        var d = Shapes.Dim(dim, Rank, "Gather");
        if (index.Rank != Rank)
            throw new TensorShapeException($"Gather: index has rank {index.Rank} but the input has rank {Rank} ({Shapes.Format(index.shape)} vs {Shapes.Format(shape)})");
        for (var i = 0; i < Rank; i++)
            if (i != d && index.shape[i] > shape[i])
                throw new TensorShapeException($"Gather: index size {index.shape[i]} exceeds input size {shape[i]} at dim {i} ({Shapes.Format(index.shape)} vs {Shapes.Format(shape)})");
        var ids = CheckIndices(index, Rank == 0 ? 1 : shape[d], "Gather", $"dim {d} of size {(Rank == 0 ? 1 : shape[d])}");
        var x = FloatInput("Gather");
        var y = Allocate(index.shape, DType.Float32, Device);
        Backend.Gather(x, d, ids, y);
        if (Autograd.Needs(x)) y.SetGradFn(new GatherBackward(x, d, ids));
        return y;
    }

    sealed class GatherBackward(Tensor x, int dim, Tensor index) : Node("GatherBackward", x)
    {
        Tensor? index = index;
        readonly int[] inputShape = x.shape;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var g = Zeros(inputShape, DType.Float32, gy.Device);
            gy.Backend.ScatterAdd(gy, dim, Saved(index), g);
            gx[0] = g;
        }

        protected override void ReleaseSaved() => index = null;
    }

    /// <summary>
    /// Contiguous Int32 indices, every one in [0, size) (negative ones are not allowed, as in PyTorch's gather).
    /// The bounds are checked by the backend: at once on the CPU, at the next read-back on a GPU
    /// (<see cref="Backend.CheckIndices"/>). <paramref name="outOfRange"/>: the op's own message, else "{op}: index
    /// v at position p is out of range for {what}".
    /// </summary>
    internal static Tensor CheckIndices(Tensor indices, int size, string op, string what, string? outOfRange = null)
    {
        if (indices.DType != DType.Int32)
            throw new TensorShapeException($"{op}: indices must be int32, got {indices.DType} (shape {Shapes.Format(indices.shape)}); convert with To(DType.Int32)");
        var ids = indices.ContiguousData();
        if (ids.Count == 0) return ids;
        ids.Backend.CheckIndices(ids, size, null, outOfRange ?? $"{op}: index {{0}} at position {{1}} is out of range for {what}");
        return ids;
    }
}
