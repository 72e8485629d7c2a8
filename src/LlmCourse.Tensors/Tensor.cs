using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>
/// An n-dimensional array: a view (shape, strides, offset, all in elements) over a storage on a
/// device, with an optional gradient and the autograd node that produced it. PyTorch semantics
/// throughout: dims may be negative, ops broadcast, views share storage, gradients accumulate.
/// The class is split by concept: <c>Tensor.Factories.cs</c>, <c>Tensor.Format.cs</c>, and every op with its gradient in <c>Ops/*.cs</c> (README.md in this folder gives the order to read them).
/// </summary>
public sealed partial class Tensor
{
    internal Storage Storage;
    internal readonly int[] shape;
    internal readonly int[] strides;
    internal readonly long offset;
    internal readonly bool contiguous;

    internal Node? GradFn;
    bool requiresGrad;
    internal Tensor? grad;

    internal Tensor(Storage storage, int[] shape, int[]? strides = null, long offset = 0)
    {
        Storage = storage;
        this.shape = shape;
        this.strides = strides ?? Shapes.ContiguousStrides(shape);
        this.offset = offset;
        contiguous = strides is null || Shapes.IsContiguous(shape, this.strides);
    }

    /// <summary>A fresh contiguous tensor on <paramref name="device"/>; uninitialised unless <paramref name="zeroed"/>.</summary>
    internal static Tensor Allocate(int[] shape, DType dtype, Device device, bool zeroed = false) =>
        new(device.Backend.Allocate(dtype, Shapes.Count(shape), zeroed), shape);

    /// <summary>A fresh contiguous Float32 tensor on this tensor's device.</summary>
    internal Tensor NewEmpty(int[] shape, DType dtype = DType.Float32, bool zeroed = false) =>
        Allocate(shape, dtype, Device, zeroed);

    internal Backend Backend => Storage.Backend;

    /// <summary>The sizes of the dims (a copy).</summary>
    public int[] Shape => (int[])shape.Clone();

    public int Rank => shape.Length;

    /// <summary>Number of elements.</summary>
    public long Count => Shapes.Count(shape);

    /// <summary>Size of one dim; negative dims count from the end.</summary>
    public int Size(int dim) => shape[Shapes.Dim(dim, Rank, "Size")];

    /// <summary>Strides in elements (a copy).</summary>
    public int[] Strides => (int[])strides.Clone();

    public DType DType => Storage.DType;

    public Device Device => Storage.Device;

    /// <summary>Row-major with no gaps: fast paths apply and <see cref="View"/> always works.</summary>
    public bool IsContiguous => contiguous;

    /// <summary>True for tensors made by the user (not by an op that recorded a gradient function).</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>The name of the op that produced this tensor (PyTorch's <c>grad_fn</c>), or null for leaves.</summary>
    public string? GradFnName => GradFn?.Name;

    /// <summary>
    /// Whether ops on this tensor are recorded for <see cref="Backward"/>. Only leaves can be switched,
    /// and only Float32 tensors can require a gradient.
    /// </summary>
    public bool RequiresGrad
    {
        get => requiresGrad;
        set
        {
            if (!IsLeaf)
                throw new InvalidOperationException(
                    $"RequiresGrad: only leaf tensors can change it; this one was produced by {GradFn!.Name} (use Detach() to get a leaf).");
            if (value && DType != DType.Float32)
                throw new TensorShapeException($"RequiresGrad: only Float32 tensors can require gradients, got {DType}");
            requiresGrad = value;
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (PyTorch's <c>requires_grad_()</c>).</summary>
    public Tensor WithGrad(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>
    /// The gradient accumulated by <see cref="Backward"/> (leaves only; non-leaf gradients are not kept).
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            // The caller may keep this tensor, so ZeroGrad must not recycle its memory.
            if (grad is not null) grad.Storage.Exposed = true;
            return grad;
        }
        set
        {
            if (value is not null)
            {
                if (!Shapes.Equal(value.shape, shape))
                    throw new TensorShapeException($"Grad: assigned gradient has shape {Shapes.Format(value.shape)}, tensor has {Shapes.Format(shape)}");
                if (value.Device != Device)
                    throw new TensorShapeException($"Grad: assigned gradient is on {value.Device}, tensor is on {Device}");
                value.Storage.Exposed = true;
                value.Storage.Owner = null; // a gradient outlives the scope it was made in
            }
            grad = value;
        }
    }

    /// <summary>Sets the gradient to null, handing its memory back to the pool when nobody else can hold it.</summary>
    internal void ClearGrad()
    {
        var g = grad;
        grad = null;
        if (g is not null && !g.Storage.Exposed && g.Storage.Owner is null) g.Storage.Release("ZeroGrad recycled the gradient");
    }

    /// <summary>A new leaf sharing this tensor's storage, cut from the graph (no gradient flows through it).</summary>
    public Tensor Detach() => new(Storage, shape, strides, offset);

    internal void SetGradFn(Node node)
    {
        GradFn = node;
        requiresGrad = true;
    }

    /// <summary>Element offset (into the storage) of a multi-index.</summary>
    internal long OffsetOf(ReadOnlySpan<int> index, string op)
    {
        if (index.Length != Rank)
            throw new TensorShapeException($"{op}: {index.Length} indices for a tensor of shape {Shapes.Format(shape)}");
        var o = offset;
        for (var d = 0; d < index.Length; d++)
        {
            var i = index[d] < 0 ? index[d] + shape[d] : index[d];
            if (i < 0 || i >= shape[d])
                throw new TensorShapeException($"{op}: index {index[d]} is out of bounds for dim {d} with size {shape[d]} (shape {Shapes.Format(shape)})");
            o += (long)i * strides[d];
        }
        return o;
    }

    /// <summary>One element, converted to float.</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index] => Backend.ReadElement(Storage, OffsetOf(index, "Indexer"));

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Count != 1)
            throw new TensorShapeException($"Item: only one-element tensors can be converted to a scalar, got shape {Shapes.Format(shape)}");
        return Backend.ReadElement(Storage, offset);
    }

    /// <summary>A row-major copy of the elements as floats (Int32 and half types are converted).</summary>
    public float[] ToArray()
    {
        var result = new float[Count];
        Backend.Download(this, result);
        return result;
    }

    /// <summary>A row-major copy as ints (floats are truncated toward zero, like PyTorch's <c>.int()</c>).</summary>
    public int[] ToInt32Array()
    {
        var result = new int[Count];
        Backend.Download(this, result);
        return result;
    }

    internal static string Format(int[] shape) => Shapes.Format(shape);
}
