namespace LlmCourse.Tensors;

/// <summary>Copies: to another dtype or device, contiguous copies, clones, and the in-place writes the library needs.</summary>
public sealed partial class Tensor
{
    /// <summary>This tensor converted to <paramref name="dtype"/> (a copy; this tensor when the dtype already matches).
    /// Float to Int32 truncates toward zero; bf16/fp16 round to nearest even.</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var result = NewEmpty(shape, dtype);
        Backend.Copy(this, result);
        return result;
    }

    /// <summary>A copy on <paramref name="device"/> (this tensor when it is already there). Gradients flow back.</summary>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        var host = ToArrayOfOwnType(out var ints);
        var result = Allocate(shape, DType, device);
        if (ints is not null) result.Backend.Upload(ints, result);
        else result.Backend.Upload(host!, result);
        if (Autograd.Needs(this)) result.SetGradFn(new ToDeviceBackward(this, Device));
        return result;
    }

    float[]? ToArrayOfOwnType(out int[]? ints)
    {
        ints = null;
        if (DType == DType.Int32)
        {
            ints = ToInt32Array();
            return null;
        }
        if (DType != DType.Float32)
            throw new TensorShapeException($"To(Device): convert {DType} tensors to Float32 before moving them");
        return ToArray();
    }

    /// <summary>Moves this tensor's data to another device in place (same object): Module.To.</summary>
    internal void MoveTo(Device device)
    {
        if (device == Device) return;
        if (!contiguous || offset != 0)
            throw new InvalidOperationException($"To({device}): only whole contiguous tensors can be moved in place (shape {Shapes.Format(shape)})");
        using (Autograd.NoGrad()) Storage = To(device).Storage;
        if (grad is not null) grad = grad.To(device);
    }

    sealed class ToDeviceBackward(Tensor x, Device source) : Node("ToCopyBackward", x)
    {
        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = gy.To(source);
    }

    /// <summary>This tensor if it is contiguous, else a contiguous copy (differentiable).</summary>
    public Tensor Contiguous() => contiguous ? this : Clone();

    /// <summary>A contiguous copy that owns its memory; gradients pass straight through.</summary>
    public Tensor Clone()
    {
        var result = NewEmpty(shape, DType);
        Backend.Copy(this, result);
        if (Autograd.Needs(this)) result.SetGradFn(new CloneBackward(this));
        return result;
    }

    sealed class CloneBackward(Tensor x) : Node("CloneBackward", x)
    {
        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = gy;
    }

    /// <summary>Kernel helper: contiguous data, copying if needed, never recorded.</summary>
    internal Tensor ContiguousData()
    {
        if (contiguous) return this;
        var result = NewEmpty(shape, DType);
        Backend.Copy(this, result);
        return result;
    }

    /// <summary>This tensor, checked to be Float32: maths is Float32 only (Int32 holds indices).</summary>
    internal Tensor FloatInput(string op)
    {
        if (DType != DType.Float32)
            throw new TensorShapeException($"{op}: expects Float32, got {DType} (shape {Shapes.Format(shape)}); convert with To(DType.Float32)");
        return this;
    }

    /// <summary>A reshaped view, or a reshaped contiguous copy when the strides forbid a view. Not recorded.</summary>
    internal Tensor ReshapeData(int[] newShape)
    {
        var strides = ViewStrides(newShape);
        if (strides is not null) return AsView(newShape, strides, offset);
        var c = ContiguousData();
        return c.AsView(newShape, Shapes.ContiguousStrides(newShape), c.offset);
    }

    /// <summary>Float32 view of the data for maths: Int32 and half tensors are converted (PyTorch promotes them too).</summary>
    internal Tensor AsFloat() => DType == DType.Float32 ? this : To(DType.Float32);

    /// <summary>In place: this += other (same shape; gradient accumulation, no recording).</summary>
    internal void AddInPlace(Tensor other) => Backend.Binary(Backends.BinaryOp.Add, this, other, this);

    /// <summary>In place: copies <paramref name="source"/> (broadcast to this shape) into this view. Not recorded.</summary>
    internal void CopyFrom(Tensor source, string op = "Copy")
    {
        if (source.Device != Device)
            source = source.To(Device);
        Backend.Copy(source.ExpandTo(shape, op), this);
    }

    /// <summary>In place: sets every element. Not recorded.</summary>
    internal void FillInPlace(float value) => Backend.Fill(this, value);

    /// <summary>Checks that two tensors live on the same device, naming the op and both devices.</summary>
    internal static void SameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Storage.Device != b.Storage.Device)
            throw new TensorShapeException($"{op}: expected all tensors on the same device, got {a.Device} and {b.Device}");
    }

    internal void RequireDType(DType dtype, string op, string role = "input")
    {
        if (DType != dtype)
            throw new TensorShapeException($"{op}: {role} must be {dtype}, got {DType} (shape {Shapes.Format(shape)})");
    }
}
