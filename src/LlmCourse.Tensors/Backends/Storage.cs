namespace LlmCourse.Tensors.Backends;

/// <summary>
/// A flat buffer of <see cref="Length"/> elements of one dtype on one device. Tensors are views over
/// storages (shape, strides, offset); several tensors may share one storage.
/// </summary>
internal abstract class Storage
{
    protected Storage(DType dtype, long length)
    {
        DType = dtype;
        Length = length;
    }

    public DType DType { get; }

    /// <summary>Number of elements (not bytes).</summary>
    public long Length { get; }

    public abstract Device Device { get; }

    public Backend Backend => Device.Backend;

    /// <summary>
    /// The scope that returns this storage's memory to the pool when it ends (null: the garbage
    /// collector reclaims it). See <see cref="TensorScope"/>.
    /// </summary>
    public TensorScope? Owner { get; set; }

    /// <summary>
    /// Set when user code may hold a tensor over this storage through a public getter (e.g.
    /// <see cref="Tensor.Grad"/>); such storage is never recycled implicitly.
    /// </summary>
    public bool Exposed { get; set; }

    /// <summary>
    /// During a backward pass: how many gradients in flight (pending at a node, or just produced) view
    /// this storage. At 1 the engine may add into it in place or hand it to a leaf without a copy.
    /// </summary>
    public int GradientRefs { get; set; }

    /// <summary>
    /// Set on a fresh storage whose values autocast rounded to this dtype: an autocast operand
    /// (<see cref="Tensor.RoundedTo"/>), an autocast product's result (Linear, MatMul) and an activation of one
    /// (what PyTorch's autocast returns as a bf16/fp16 tensor). Every value is exactly representable in this
    /// dtype, so a GPU may run a product on 16-bit tensor cores with no change in the result, and an activation
    /// under autocast keeps its result in the same precision. Float32 (the default) promises nothing.
    /// </summary>
    public DType ValuesRoundedTo { get; set; } = DType.Float32;

    public abstract bool IsReleased { get; }

    /// <summary>Gives the memory back to the pool; any later access throws.</summary>
    public abstract void Release(string why);
}
