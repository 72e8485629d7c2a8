using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// One element-wise function of one tensor, as one readonly struct: its forward <c>y = f(x)</c> and its
/// gradient <c>gx = gy * f'(x)</c> side by side, each twice: a scalar form (the plain reference, read it
/// first) and a vectorised form over one contiguous block of at most <see cref="CpuBackend.Block"/>
/// elements (what runs; System.Numerics.Tensors passes, or the op's own Vector256/512 code through
/// <see cref="VectorLoops"/>). x and y may be the same span. The backward gets the saved output
/// <c>y</c> too, for ops whose derivative is cheaper from it (exp, tanh, sigmoid).
/// The one loop that drives every operator is <see cref="CpuBackend.Unary"/> / <see cref="CpuBackend.UnaryBackward"/>:
/// it splits the tensor into blocks and the blocks over threads; each operator only says what to do to
/// a block. Being structs, operators are generic arguments the JIT specialises and inlines.
/// </summary>
internal interface IUnaryOperator
{
    float Forward(float x);

    float Backward(float x, float y, float gy);

    void Forward(ReadOnlySpan<float> x, Span<float> y);

    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx);
}

/// <summary>
/// An operator that writes its own vector code (GELU's fused one-pass forms, the masked gradients):
/// <c>f(x)</c> and <c>gy * f'(x)</c> in Vector256 and Vector512, run by <see cref="VectorLoops"/>.
/// </summary>
internal interface IVectorOperator
{
    Vector256<float> Forward(Vector256<float> x);

    Vector512<float> Forward(Vector512<float> x);

    Vector256<float> Backward(Vector256<float> x, Vector256<float> gy);

    Vector512<float> Backward(Vector512<float> x, Vector512<float> gy);
}

/// <summary>Runs an operator on whatever the caller needs (forward or backward, one thread or many), once
/// <see cref="UnaryOperators.Apply"/> has turned the backend's <see cref="UnaryOp"/> into its struct.</summary>
internal interface IUnaryAction
{
    void Run<TOp>(TOp op) where TOp : struct, IUnaryOperator;
}

/// <summary>
/// An operator whose gradient is cheaper when it reads its forward output too: GELU's Phi(x) is y / x,
/// one division where recomputing it costs a polynomial and an exponential.
/// </summary>
internal interface IVectorOutputGradient
{
    Vector256<float> Backward(Vector256<float> x, Vector256<float> y, Vector256<float> gy);

    Vector512<float> Backward(Vector512<float> x, Vector512<float> y, Vector512<float> gy);
}

/// <summary>
/// The loop every <see cref="IVectorOperator"/> runs in: the widest vector the CPU has, then the last
/// partial vector done as one overlapping full vector (so an element's bits never depend on where it
/// sits in the array), scalar only for inputs shorter than a vector. The overlapping vector's inputs are
/// loaded before anything is stored: the output may be the input (the backend runs an op in place on a
/// contiguous copy of a strided input), and reading them after the main loop would apply the op twice to
/// the elements both vectors cover.
/// </summary>
internal static class VectorLoops
{
    public static void Forward<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IUnaryOperator, IVectorOperator
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        var n = x.Length;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            const int w = 512 / 32;
            var last = (nuint)(n - w);
            var lastX = Vector512.LoadUnsafe(ref xr, last);
            for (nuint i = 0; i + w <= (nuint)n; i += w) op.Forward(Vector512.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
            if (n % w != 0) op.Forward(lastX).StoreUnsafe(ref yr, last);
            return;
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            const int w = 256 / 32;
            var last = (nuint)(n - w);
            var lastX = Vector256.LoadUnsafe(ref xr, last);
            for (nuint i = 0; i + w <= (nuint)n; i += w) op.Forward(Vector256.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
            if (n % w != 0) op.Forward(lastX).StoreUnsafe(ref yr, last);
            return;
        }
        for (var i = 0; i < n; i++) y[i] = op.Forward(x[i]);
    }

    /// <summary>gx = gy * f'(x); the scalar fallback passes <c>y = NaN</c>, so only operators whose scalar
    /// backward ignores y (those written from x) may use this loop.</summary>
    public static void Backward<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx)
        where TOp : struct, IUnaryOperator, IVectorOperator
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var gr = ref MemoryMarshal.GetReference(gy);
        ref var outr = ref MemoryMarshal.GetReference(gx);
        var n = x.Length;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            const int w = 512 / 32;
            var last = (nuint)(n - w);
            var (lastX, lastG) = (Vector512.LoadUnsafe(ref xr, last), Vector512.LoadUnsafe(ref gr, last));
            for (nuint i = 0; i + w <= (nuint)n; i += w)
                op.Backward(Vector512.LoadUnsafe(ref xr, i), Vector512.LoadUnsafe(ref gr, i)).StoreUnsafe(ref outr, i);
            if (n % w != 0) op.Backward(lastX, lastG).StoreUnsafe(ref outr, last);
            return;
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            const int w = 256 / 32;
            var last = (nuint)(n - w);
            var (lastX, lastG) = (Vector256.LoadUnsafe(ref xr, last), Vector256.LoadUnsafe(ref gr, last));
            for (nuint i = 0; i + w <= (nuint)n; i += w)
                op.Backward(Vector256.LoadUnsafe(ref xr, i), Vector256.LoadUnsafe(ref gr, i)).StoreUnsafe(ref outr, i);
            if (n % w != 0) op.Backward(lastX, lastG).StoreUnsafe(ref outr, last);
            return;
        }
        for (var i = 0; i < n; i++) gx[i] = op.Backward(x[i], float.NaN, gy[i]);
    }

    /// <summary>gx = gy * f'(x) from the input and the forward output y, for an <see cref="IVectorOutputGradient"/>.</summary>
    public static void BackwardFromOutput<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
        where TOp : struct, IUnaryOperator, IVectorOutputGradient
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        ref var gr = ref MemoryMarshal.GetReference(gy);
        ref var outr = ref MemoryMarshal.GetReference(gx);
        var n = x.Length;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            const int w = 512 / 32;
            var last = (nuint)(n - w);
            var (lastX, lastY, lastG) = (Vector512.LoadUnsafe(ref xr, last), Vector512.LoadUnsafe(ref yr, last), Vector512.LoadUnsafe(ref gr, last));
            for (nuint i = 0; i + w <= (nuint)n; i += w)
                op.Backward(Vector512.LoadUnsafe(ref xr, i), Vector512.LoadUnsafe(ref yr, i), Vector512.LoadUnsafe(ref gr, i)).StoreUnsafe(ref outr, i);
            if (n % w != 0) op.Backward(lastX, lastY, lastG).StoreUnsafe(ref outr, last);
            return;
        }
        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            const int w = 256 / 32;
            var last = (nuint)(n - w);
            var (lastX, lastY, lastG) = (Vector256.LoadUnsafe(ref xr, last), Vector256.LoadUnsafe(ref yr, last), Vector256.LoadUnsafe(ref gr, last));
            for (nuint i = 0; i + w <= (nuint)n; i += w)
                op.Backward(Vector256.LoadUnsafe(ref xr, i), Vector256.LoadUnsafe(ref yr, i), Vector256.LoadUnsafe(ref gr, i)).StoreUnsafe(ref outr, i);
            if (n % w != 0) op.Backward(lastX, lastY, lastG).StoreUnsafe(ref outr, last);
            return;
        }
        for (var i = 0; i < n; i++) gx[i] = op.Backward(x[i], y[i], gy[i]);
    }
}
