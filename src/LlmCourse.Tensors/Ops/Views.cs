namespace LlmCourse.Tensors;

/// <summary>
/// Views: new shape/strides/offset over the same storage, no copy (Reshape copies only when it must).
/// Each view's gradient rule sits under it: gradients are reshaped, permuted back, summed over
/// expanded dims, or written into zeros at the sliced positions.
/// </summary>
public sealed partial class Tensor
{
    internal Tensor AsView(int[] newShape, int[] newStrides, long newOffset) => new(Storage, newShape, newStrides, newOffset);

    // ---- reshape / view ----------------------------------------------------------------------

    /// <summary>Same elements, new shape (one dim may be -1). A view when the strides allow, else a copy.</summary>
    public Tensor Reshape(params int[] newShape)
    {
        var target = Shapes.Infer(newShape, Count, "Reshape", shape);
        if (Shapes.Equal(target, shape)) return this;
        var strides = ViewStrides(target);
        if (strides is null) return Contiguous().Reshape(target);
        return Record(AsView(target, strides, offset), "ReshapeBackward");
    }

    /// <summary>Like <see cref="Reshape"/> but never copies: throws when the strides do not allow a view.</summary>
    public Tensor View(params int[] newShape)
    {
        var target = Shapes.Infer(newShape, Count, "View", shape);
        var strides = ViewStrides(target) ?? throw new TensorShapeException(
            $"View: shape {Shapes.Format(target)} is not compatible with input {Shapes.Format(shape)} with strides {Shapes.Format(this.strides)} " +
            "(at least one dim spans two non-contiguous subspaces); use Reshape(...) instead");
        return Record(AsView(target, strides, offset), "ViewBackward");
    }

    /// <summary>Dims [startDim, endDim] merged into one.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        var s = Shapes.Dim(startDim, Rank, "Flatten");
        var e = Shapes.Dim(endDim, Rank, "Flatten");
        if (s > e) throw new TensorShapeException($"Flatten: startDim {startDim} comes after endDim {endDim} for rank {Rank}");
        var target = new List<int>();
        for (var d = 0; d < s; d++) target.Add(shape[d]);
        var merged = 1;
        for (var d = s; d <= e; d++) merged *= shape[d];
        target.Add(merged);
        for (var d = e + 1; d < Rank; d++) target.Add(shape[d]);
        return Reshape([.. target]);
    }

    /// <summary>PyTorch's computeStride: strides for <paramref name="target"/> over this view's memory, or null.</summary>
    int[]? ViewStrides(int[] target)
    {
        if (Count == 0 || contiguous) return Shapes.ContiguousStrides(target);
        var result = new int[target.Length];
        if (Rank == 0)
        {
            Array.Fill(result, 1);
            return result;
        }
        var viewD = target.Length - 1;
        long chunkBaseStride = strides[^1];
        long tensorNumel = 1, viewNumel = 1;
        for (var d = Rank - 1; d >= 0; d--)
        {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBaseStride))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] == 1))
                {
                    result[viewD] = (int)(viewNumel * chunkBaseStride);
                    viewNumel *= target[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0)
                {
                    chunkBaseStride = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? result : null;
    }

    /// <summary>Records a shape-only view: its gradient is the incoming gradient reshaped back.</summary>
    Tensor Record(Tensor view, string name)
    {
        if (Autograd.Needs(this)) view.SetGradFn(new ReshapeBackward(name, this));
        return view;
    }

    sealed class ReshapeBackward(string name, Tensor x) : Node(name, x)
    {
        readonly int[] inputShape = x.shape;

        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = gy.Reshape(inputShape);
    }

    // ---- dims --------------------------------------------------------------------------------

    /// <summary>A size-1 dim inserted at <paramref name="dim"/> (-1 appends).</summary>
    public Tensor Unsqueeze(int dim)
    {
        var d = Shapes.Dim(dim, Rank + 1, "Unsqueeze");
        var newShape = new int[Rank + 1];
        var newStrides = new int[Rank + 1];
        for (int i = 0, j = 0; i <= Rank; i++)
        {
            if (i == d)
            {
                newShape[i] = 1;
                newStrides[i] = d < Rank ? shape[d] * strides[d] : 1;
                continue;
            }
            newShape[i] = shape[j];
            newStrides[i] = strides[j++];
        }
        return Record(AsView(newShape, newStrides, offset), "UnsqueezeBackward");
    }

    /// <summary>Removes <paramref name="dim"/> if its size is 1 (else returns this tensor, like PyTorch).</summary>
    public Tensor Squeeze(int dim)
    {
        var d = Shapes.Dim(dim, Rank, "Squeeze");
        if (Rank == 0 || shape[d] != 1) return this;
        return Record(AsView([.. shape[..d], .. shape[(d + 1)..]], [.. strides[..d], .. strides[(d + 1)..]], offset), "SqueezeBackward");
    }

    /// <summary>Removes every size-1 dim.</summary>
    public Tensor Squeeze()
    {
        var keep = Enumerable.Range(0, Rank).Where(d => shape[d] != 1).ToArray();
        if (keep.Length == Rank) return this;
        return Record(AsView(keep.Select(d => shape[d]).ToArray(), keep.Select(d => strides[d]).ToArray(), offset), "SqueezeBackward");
    }

    /// <summary>Swaps two dims (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var a = Shapes.Dim(dim0, Rank, "Transpose");
        var b = Shapes.Dim(dim1, Rank, "Transpose");
        var order = new int[Rank];
        for (var d = 0; d < order.Length; d++) order[d] = d;
        (order[a], order[b]) = (order[b], order[a]);
        return PermuteChecked(order, "TransposeBackward");
    }

    /// <summary>The 2-D transpose (<c>W.T</c>); tensors of rank 0 or 1 are returned unchanged.</summary>
    public Tensor T => Rank switch
    {
        < 2 => this,
        2 => Transpose(0, 1),
        _ => throw new TensorShapeException($"T: expects a tensor with <= 2 dims, got shape {Shapes.Format(shape)}; use Transpose(-2, -1)"),
    };

    /// <summary>The last two dims swapped (PyTorch's <c>mT</c>), for batches of matrices.</summary>
    public Tensor MT => Rank < 2
        ? throw new TensorShapeException($"MT: expects a tensor with >= 2 dims, got shape {Shapes.Format(shape)}")
        : Transpose(-2, -1);

    /// <summary>Reorders the dims: result dim i is input dim <paramref name="dims"/>[i].</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank)
            throw new TensorShapeException($"Permute: {dims.Length} dims given for a tensor of shape {Shapes.Format(shape)}");
        var order = new int[Rank];
        var seen = new bool[Rank];
        for (var i = 0; i < Rank; i++)
        {
            order[i] = Shapes.Dim(dims[i], Rank, "Permute");
            if (seen[order[i]]) throw new TensorShapeException($"Permute: dim {dims[i]} repeats in {Shapes.Format(dims)}");
            seen[order[i]] = true;
        }
        return PermuteChecked(order, "PermuteBackward");
    }

    Tensor PermuteChecked(int[] order, string name)
    {
        var newShape = new int[order.Length];
        var newStrides = new int[order.Length];
        for (var i = 0; i < order.Length; i++)
        {
            newShape[i] = shape[order[i]];
            newStrides[i] = strides[order[i]];
        }
        var view = AsView(newShape, newStrides, offset);
        if (Autograd.Needs(this)) view.SetGradFn(new PermuteBackward(name, this, order));
        return view;
    }

    sealed class PermuteBackward(string name, Tensor x, int[] order) : Node(name, x)
    {
        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var inverse = new int[order.Length];
            for (var i = 0; i < order.Length; i++) inverse[order[i]] = i;
            gx[0] = gy.Permute(inverse);
        }
    }

    // ---- expand ------------------------------------------------------------------------------

    /// <summary>Broadcasts size-1 dims (and new leading dims) to <paramref name="sizes"/> without copying; -1 keeps a size.</summary>
    public Tensor Expand(params int[] sizes)
    {
        var target = ExpandShape(sizes, "Expand");
        if (Shapes.Equal(target, shape)) return this;
        var view = ExpandTo(target, "Expand");
        if (Autograd.Needs(this)) view.SetGradFn(new ExpandBackward(this));
        return view;
    }

    int[] ExpandShape(int[] sizes, string op)
    {
        if (sizes.Length < Rank)
            throw new TensorShapeException($"{op}: the number of sizes ({sizes.Length}) must be >= the rank of {Shapes.Format(shape)}");
        var target = (int[])sizes.Clone();
        var lead = sizes.Length - Rank;
        for (var d = 0; d < Rank; d++)
            if (target[lead + d] == -1) target[lead + d] = shape[d];
        for (var d = 0; d < lead; d++)
            if (target[d] < 0) throw new TensorShapeException($"{op}: -1 is not allowed for a new leading dim in {Shapes.Format(sizes)}");
        return target;
    }

    /// <summary>Stride-0 broadcast view to <paramref name="target"/> (not recorded; the kernels' input form).</summary>
    internal Tensor ExpandTo(int[] target, string op)
    {
        if (Shapes.Equal(target, shape)) return this;
        var lead = target.Length - Rank;
        if (lead < 0)
            throw new TensorShapeException($"{op}: cannot expand shape {Shapes.Format(shape)} to {Shapes.Format(target)}");
        var newStrides = new int[target.Length];
        for (var d = 0; d < target.Length; d++)
        {
            if (d < lead) continue; // new leading dims: stride 0
            var size = shape[d - lead];
            if (size == target[d]) newStrides[d] = strides[d - lead];
            else if (size == 1) newStrides[d] = 0;
            else
                throw new TensorShapeException(
                    $"{op}: the expanded size {target[d]} must match the existing size {size} at dim {d} (shape {Shapes.Format(shape)} to {Shapes.Format(target)})");
        }
        return AsView((int[])target.Clone(), newStrides, offset);
    }

    sealed class ExpandBackward(Tensor x) : Node("ExpandBackward", x)
    {
        readonly int[] inputShape = x.shape;

        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = gy.SumTo(inputShape);
    }

    /// <summary>Sums a broadcast result back to <paramref name="target"/>: the gradient of broadcasting.</summary>
    internal Tensor SumTo(int[] target)
    {
        if (Shapes.Equal(shape, target)) return this;
        var lead = Rank - target.Length;
        var dims = new List<int>();
        for (var d = 0; d < Rank; d++)
            if (d < lead || (target[d - lead] == 1 && shape[d] != 1)) dims.Add(d);
        var summed = dims.Count == 0 ? this : Sum([.. dims], keepDim: true);
        return summed.Reshape(target);
    }

    // ---- slicing -----------------------------------------------------------------------------

    /// <summary>Elements start, start+step, ... below end along <paramref name="dim"/> (Python slicing: negative indices count from the end, out-of-range bounds clamp).</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        var d = Shapes.Dim(dim, Rank, "Slice");
        if (step <= 0) throw new TensorShapeException($"Slice: step must be positive, got {step}");
        var size = shape[d];
        if (start < 0) start += size;
        if (end < 0) end += size;
        start = Math.Clamp(start, 0, size);
        end = Math.Clamp(end, start, size);
        var length = (end - start + step - 1) / step;
        return SliceView(d, start, length, step, "SliceBackward");
    }

    /// <summary><paramref name="length"/> elements from <paramref name="start"/> along <paramref name="dim"/> (a view).</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        var d = Shapes.Dim(dim, Rank, "Narrow");
        var size = shape[d];
        if (start < 0) start += size;
        if (start < 0 || length < 0 || start + length > size)
            throw new TensorShapeException($"Narrow: start {start} + length {length} exceeds dim {d} of size {size} (shape {Shapes.Format(shape)})");
        return SliceView(d, start, length, 1, "NarrowBackward");
    }

    /// <summary>A strided slice view that is never recorded.</summary>
    internal Tensor AsSliceView(int d, int start, int length, int step)
    {
        var newShape = (int[])shape.Clone();
        var newStrides = (int[])strides.Clone();
        newShape[d] = length;
        newStrides[d] = strides[d] * step;
        return AsView(newShape, newStrides, offset + (long)start * strides[d]);
    }

    Tensor SliceView(int d, int start, int length, int step, string name)
    {
        var newShape = (int[])shape.Clone();
        var newStrides = (int[])strides.Clone();
        newShape[d] = length;
        newStrides[d] = strides[d] * step;
        var view = AsView(newShape, newStrides, offset + (long)start * strides[d]);
        if (Autograd.Needs(this)) view.SetGradFn(new SliceBackward(name, this, d, start, length, step));
        return view;
    }

    sealed class SliceBackward(string name, Tensor x, int dim, int start, int length, int step) : Node(name, x), IPartViewGradient
    {
        readonly int[] inputShape = x.shape;

        public Tensor Part(Tensor inputGradient) => inputGradient.AsSliceView(dim, start, length, step);

        public PartRegion? Region => step == 1 ? new PartRegion(dim, start, start + length) : null;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var g = Zeros(inputShape, DType.Float32, gy.Device);
            Part(g).CopyFrom(gy);
            gx[0] = g;
        }
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="dim"/>, that dim removed (<c>x[:, i]</c>).</summary>
    public Tensor Select(int dim, int index)
    {
        var d = Shapes.Dim(dim, Rank, "Select");
        var size = shape[d];
        var i = index < 0 ? index + size : index;
        if (i < 0 || i >= size)
            throw new TensorShapeException($"Select: index {index} is out of range for dim {d} with size {size} (shape {Shapes.Format(shape)})");
        var view = AsView([.. shape[..d], .. shape[(d + 1)..]], [.. strides[..d], .. strides[(d + 1)..]], offset + (long)i * strides[d]);
        if (Autograd.Needs(this)) view.SetGradFn(new SelectBackward(this, d, i));
        return view;
    }

    sealed class SelectBackward(Tensor x, int dim, int index) : Node("SelectBackward", x), IPartViewGradient
    {
        readonly int[] inputShape = x.shape;

        public Tensor Part(Tensor inputGradient) =>
            inputGradient.AsView([.. inputShape[..dim], .. inputShape[(dim + 1)..]],
                [.. inputGradient.strides[..dim], .. inputGradient.strides[(dim + 1)..]], inputGradient.offset + (long)index * inputGradient.strides[dim]);

        public PartRegion? Region => new PartRegion(dim, index, index + 1);

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var g = Zeros(inputShape, DType.Float32, gy.Device);
            Part(g).CopyFrom(gy);
            gx[0] = g;
        }
    }
}
