namespace LlmCourse.Tensors;

/// <summary>
/// Mixed precision, PyTorch's <c>torch.autocast</c>: inside <c>using (Autocast.BFloat16())</c> the
/// matrix products (<see cref="Tensor.MatMul(Tensor, Tensor)"/>, <see cref="Functional.Linear"/>) and
/// fused attention round their operands to bfloat16, accumulate in float32, and round their result to
/// bfloat16, as PyTorch's bf16 kernels do; their backward (wherever <c>Backward()</c> is called, like
/// PyTorch) does the same with the incoming gradient. Softmax, norms and losses stay float32, and
/// parameters, gradients and optimizer state stay float32 (the master weights).
/// An activation (GELU, ReLU, SiLU, tanh, sigmoid) of such a result is rounded too, and so is its input's
/// gradient: PyTorch runs those in their input's dtype. Cross-entropy of such a result (a language model's logits)
/// is computed in float32 and gives the logits a rounded gradient, as PyTorch's float32 copy of bf16 logits does.
/// Residual adds (a float32 stream plus a 16-bit result) stay float32, as in PyTorch.
/// Tensors keep the Float32 dtype: a value is rounded, not re-typed, so the same scope gives the same
/// numerics on the CPU and on a GPU, and CPU and GPU runs can be compared. (On a GPU the storage of a
/// rounded result holds its 16 bits, half the bytes, as PyTorch's bf16 tensor does; nothing above the backend
/// sees it.) One difference from PyTorch remains: an element-wise op whose inputs are all 16-bit results
/// other than those activations (say, the sum of two products) runs in float32, where PyTorch's gives bf16.
/// <see cref="Float16"/> does the same with IEEE half, whose narrow range needs a <see cref="Optim.GradScaler"/>.
/// Scopes are per thread and nest; <see cref="Disabled"/> turns autocast off inside one.
/// </summary>
public sealed class Autocast : IDisposable
{
    [ThreadStatic] static Autocast? current;

    readonly Autocast? parent;
    bool disposed;

    Autocast(DType precision)
    {
        Precision = precision;
        parent = current;
        current = this;
    }

    /// <summary>The dtype this scope rounds matrix-product operands to (Float32: autocast off).</summary>
    public DType Precision { get; }

    /// <summary>Matrix products and attention in bfloat16 with float32 accumulation (the usual choice on a GPU).</summary>
    public static Autocast BFloat16() => new(DType.BFloat16);

    /// <summary>Matrix products and attention in float16 with float32 accumulation; pair with a <see cref="Optim.GradScaler"/>.</summary>
    public static Autocast Float16() => new(DType.Float16);

    /// <summary>Full float32 inside an autocast scope (PyTorch's <c>autocast(enabled=False)</c>).</summary>
    public static Autocast Disabled() => new(DType.Float32);

    /// <summary>The precision ops on this thread use now: Float32 outside any scope.</summary>
    public static DType CurrentPrecision => current?.Precision ?? DType.Float32;

    public static bool IsEnabled => CurrentPrecision != DType.Float32;

    public void Dispose()
    {
        if (disposed) return;
        if (current != this)
            throw new InvalidOperationException("Autocast: scopes must end in the reverse order they began, on the thread that began them.");
        disposed = true;
        current = parent;
    }
}

public sealed partial class Tensor
{
    /// <summary>
    /// Autocast's operand: a new contiguous Float32 tensor holding this one's values rounded to
    /// <paramref name="precision"/> (this tensor itself for Float32). Not recorded: the op that rounds
    /// records its own backward, and the gradient of a rounding is passed straight through (PyTorch's cast).
    /// </summary>
    internal Tensor RoundedTo(DType precision)
    {
        if (precision == DType.Float32) return this;
        var result = NewEmpty(shape);
        if (contiguous && DType == DType.Float32) Backend.RoundTo(precision, this, result);   // one pass
        else
        {
            Backend.Copy(this, result);
            Backend.RoundTo(precision, result, result);
        }
        result.Storage.ValuesRoundedTo = precision;
        return result;
    }

    /// <summary>
    /// In place on an op's fresh result: rounds it to <paramref name="precision"/> (autocast's output).
    /// The result is contiguous, or a permuted view of a whole buffer (attention's time-major layout).
    /// </summary>
    internal void RoundInPlace(DType precision)
    {
        if (precision == DType.Float32) return;
        if (contiguous) Backend.RoundTo(precision, this, this);
        else if (offset == 0 && Storage.Length == Count)
        {
            var flat = new Tensor(Storage, [checked((int)Count)]);
            Backend.RoundTo(precision, flat, flat);
        }
        else
        {
            var rounded = RoundedTo(precision);
            Backend.Copy(rounded, this);
        }
    }
}
