namespace LlmCourse.Tensors;

/// <summary>Joining tensors along a dim and splitting them into views; gradients are the matching pieces.</summary>
public sealed partial class Tensor
{
    /// <summary>Concatenates along an existing dim; all other dims must agree.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new TensorShapeException("Cat: expected a non-empty list of tensors");
        var first = tensors[0];
        if (first.Rank == 0) throw new TensorShapeException("Cat: zero-dimensional tensors cannot be concatenated; use Stack");
        var d = Shapes.Dim(dim, first.Rank, "Cat");
        var outShape = (int[])first.shape.Clone();
        outShape[d] = 0;
        foreach (var t in tensors)
        {
            SameDevice("Cat", first, t);
            if (t.DType != first.DType)
                throw new TensorShapeException($"Cat: expected all tensors of dtype {first.DType}, got {t.DType}");
            var same = t.Rank == first.Rank;
            for (var i = 0; same && i < t.Rank; i++) same = i == d || t.shape[i] == first.shape[i];
            if (!same)
                throw new TensorShapeException(
                    $"Cat: sizes must match except in dim {d}: {string.Join(", ", tensors.Select(x => Shapes.Format(x.shape)))}");
            outShape[d] += t.shape[d];
        }
        var y = Allocate(outShape, first.DType, first.Device);
        var at = 0;
        foreach (var t in tensors)
        {
            y.Backend.Copy(t, y.AsNarrowView(d, at, t.shape[d]));
            at += t.shape[d];
        }
        if (Autograd.Needs(tensors)) y.SetGradFn(new CatBackward(tensors, d));
        return y;
    }

    /// <summary>A narrow view that is never recorded (kernels writing into part of a result).</summary>
    internal Tensor AsNarrowView(int d, int start, int length)
    {
        var newShape = (int[])shape.Clone();
        newShape[d] = length;
        return AsView(newShape, strides, offset + (long)start * strides[d]);
    }

    sealed class CatBackward : Node
    {
        readonly int dim;
        readonly int[] sizes;

        public CatBackward(IReadOnlyList<Tensor> inputs, int dim) : base("CatBackward", inputs)
        {
            this.dim = dim;
            sizes = inputs.Select(t => t.shape[dim]).ToArray();
        }

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var at = 0;
            for (var i = 0; i < sizes.Length; i++)
            {
                if (NeedsGrad(i)) gx[i] = gy.Narrow(dim, at, sizes[i]);
                at += sizes[i];
            }
        }
    }

    /// <summary>Joins same-shape tensors along a new dim.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new TensorShapeException("Stack: expected a non-empty list of tensors");
        var first = tensors[0];
        foreach (var t in tensors)
            if (!Shapes.Equal(t.shape, first.shape))
                throw new TensorShapeException($"Stack: expects each tensor to be equal size, got {string.Join(", ", tensors.Select(x => Shapes.Format(x.shape)))}");
        var d = Shapes.Dim(dim, first.Rank + 1, "Stack");
        return Cat(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Views of <paramref name="splitSize"/> along a dim (the last may be smaller).</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        var d = Shapes.Dim(dim, Rank, "Split");
        if (splitSize <= 0) throw new TensorShapeException($"Split: split size must be positive, got {splitSize}");
        var size = shape[d];
        var pieces = new List<Tensor>();
        for (var at = 0; at < size || (size == 0 && pieces.Count == 0); at += splitSize)
            pieces.Add(Narrow(d, at, Math.Min(splitSize, size - at)));
        return [.. pieces];
    }

    /// <summary>At most <paramref name="chunks"/> views of equal size along a dim (PyTorch's <c>chunk</c>).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new TensorShapeException($"Chunk: number of chunks must be positive, got {chunks}");
        var d = Shapes.Dim(dim, Rank, "Chunk");
        var splitSize = Math.Max(1, (shape[d] + chunks - 1) / chunks);
        return Split(splitSize, d);
    }
}
