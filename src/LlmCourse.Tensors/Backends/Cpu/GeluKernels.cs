using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends;

/// <summary>
/// GELU in one pass over the data (the pass-per-step versions in <see cref="UnaryKernels"/> are the
/// reference these are tested against). Exact GELU is x Phi(x) with Phi(-|x|) = 0.5 t exp(P(t) - z^2),
/// z = |x|/sqrt 2, t = 1/(1 + z/2), P Numerical Recipes' Chebyshev fit of erfc (relative error below
/// 1.2e-7); the tanh form is x sigmoid(2u). Vector512, Vector256 and scalar paths compute the same
/// formula; a tail shorter than a vector is finished by one overlapping vector, so an element's bits
/// do not depend on where it sits in the array.
/// </summary>
internal static class GeluKernels
{
    const float InvSqrtTwo = 0.7071067811865476f;
    const float InvSqrtTwoPi = 0.3989422804014327f;
    const float TwoSqrtTwoOverPi = 1.5957691216057308f;   // 2 sqrt(2/pi)
    const float Cubic = 0.044715f;

    // erfc(z) = t exp(-z^2 + P(t)), P's coefficients from the highest power down.
    const float C9 = 0.17087277f, C8 = -0.82215223f, C7 = 1.48851587f, C6 = -1.13520398f, C5 = 0.27886807f,
        C4 = -0.18628806f, C3 = 0.09678418f, C2 = 0.37409196f, C1 = 1.00002368f, C0 = -1.26551223f;

    // ---- exact GELU ---------------------------------------------------------------------------

    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count)
        {
            var last = x.Length - Vector512<float>.Count;
            for (; ; i += Vector512<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                (v * Cdf(v)).StoreUnsafe(ref yr, (nuint)i);
                if (i == last) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var last = x.Length - Vector256<float>.Count;
            for (; ; i += Vector256<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                (v * Cdf(v)).StoreUnsafe(ref yr, (nuint)i);
                if (i == last) return;
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] * Cdf(x[i]);
    }

    /// <summary>gx = gy (Phi(x) + x phi(x)).</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx)
    {
        var i = 0;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var gr = ref MemoryMarshal.GetReference(gy);
        ref var or = ref MemoryMarshal.GetReference(gx);
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count)
        {
            var last = x.Length - Vector512<float>.Count;
            for (; ; i += Vector512<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var pdf = Vector512.Exp(v * v * Vector512.Create(-0.5f)) * Vector512.Create(InvSqrtTwoPi);
                ((Cdf(v) + v * pdf) * Vector512.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref or, (nuint)i);
                if (i == last) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var last = x.Length - Vector256<float>.Count;
            for (; ; i += Vector256<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var pdf = Vector256.Exp(v * v * Vector256.Create(-0.5f)) * Vector256.Create(InvSqrtTwoPi);
                ((Cdf(v) + v * pdf) * Vector256.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref or, (nuint)i);
                if (i == last) return;
            }
        }
        for (; i < x.Length; i++)
        {
            var v = x[i];
            gx[i] = gy[i] * (Cdf(v) + v * MathF.Exp(-0.5f * v * v) * InvSqrtTwoPi);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Cdf(Vector512<float> x)
    {
        var z = Vector512.Abs(x) * Vector512.Create(InvSqrtTwo);
        var t = Vector512<float>.One / (Vector512<float>.One + z * Vector512.Create(0.5f));
        var p = Vector512.Create(C9);
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C8));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C7));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C1));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C0));
        var lower = Vector512.Create(0.5f) * t * Vector512.Exp(p - z * z);           // Phi(-|x|)
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512<float>.One - lower, lower);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Cdf(Vector256<float> x)
    {
        var z = Vector256.Abs(x) * Vector256.Create(InvSqrtTwo);
        var t = Vector256<float>.One / (Vector256<float>.One + z * Vector256.Create(0.5f));
        var p = Vector256.Create(C9);
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C8));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C7));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C1));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C0));
        var lower = Vector256.Create(0.5f) * t * Vector256.Exp(p - z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One - lower, lower);
    }

    static float Cdf(float x)
    {
        var z = MathF.Abs(x) * InvSqrtTwo;
        var t = 1f / (1f + z * 0.5f);
        var p = C9;
        p = MathF.FusedMultiplyAdd(p, t, C8);
        p = MathF.FusedMultiplyAdd(p, t, C7);
        p = MathF.FusedMultiplyAdd(p, t, C6);
        p = MathF.FusedMultiplyAdd(p, t, C5);
        p = MathF.FusedMultiplyAdd(p, t, C4);
        p = MathF.FusedMultiplyAdd(p, t, C3);
        p = MathF.FusedMultiplyAdd(p, t, C2);
        p = MathF.FusedMultiplyAdd(p, t, C1);
        p = MathF.FusedMultiplyAdd(p, t, C0);
        var lower = 0.5f * t * MathF.Exp(p - z * z);
        return x > 0f ? 1f - lower : lower;
    }

    // ---- tanh approximation: x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) ------------------

    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count)
        {
            var last = x.Length - Vector512<float>.Count;
            for (; ; i += Vector512<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                (v * Sigmoid2U(v)).StoreUnsafe(ref yr, (nuint)i);
                if (i == last) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var last = x.Length - Vector256<float>.Count;
            for (; ; i += Vector256<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                (v * Sigmoid2U(v)).StoreUnsafe(ref yr, (nuint)i);
                if (i == last) return;
            }
        }
        for (; i < x.Length; i++) y[i] = x[i] * Sigmoid2U(x[i]);
    }

    /// <summary>gx = gy (s + 2 x s (1 - s) u'), s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3c x^2).</summary>
    public static void TanhBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx)
    {
        var i = 0;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var gr = ref MemoryMarshal.GetReference(gy);
        ref var or = ref MemoryMarshal.GetReference(gx);
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count)
        {
            var last = x.Length - Vector512<float>.Count;
            for (; ; i += Vector512<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector512.LoadUnsafe(ref xr, (nuint)i);
                var s = Sigmoid2U(v);
                var du = Vector512.Create(TwoSqrtTwoOverPi) * (Vector512<float>.One + Vector512.Create(3f * Cubic) * v * v);
                ((s + v * s * (Vector512<float>.One - s) * du) * Vector512.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref or, (nuint)i);
                if (i == last) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var last = x.Length - Vector256<float>.Count;
            for (; ; i += Vector256<float>.Count)
            {
                if (i > last) i = last;
                var v = Vector256.LoadUnsafe(ref xr, (nuint)i);
                var s = Sigmoid2U(v);
                var du = Vector256.Create(TwoSqrtTwoOverPi) * (Vector256<float>.One + Vector256.Create(3f * Cubic) * v * v);
                ((s + v * s * (Vector256<float>.One - s) * du) * Vector256.LoadUnsafe(ref gr, (nuint)i)).StoreUnsafe(ref or, (nuint)i);
                if (i == last) return;
            }
        }
        for (; i < x.Length; i++)
        {
            var v = x[i];
            var s = Sigmoid2U(v);
            var du = TwoSqrtTwoOverPi * (1f + 3f * Cubic * v * v);
            gx[i] = gy[i] * (s + v * s * (1f - s) * du);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Sigmoid2U(Vector512<float> x)
    {
        var twoU = Vector512.Create(TwoSqrtTwoOverPi) * x * (Vector512<float>.One + Vector512.Create(Cubic) * x * x);
        return Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-twoU));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Sigmoid2U(Vector256<float> x)
    {
        var twoU = Vector256.Create(TwoSqrtTwoOverPi) * x * (Vector256<float>.One + Vector256.Create(Cubic) * x * x);
        return Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-twoU));
    }

    static float Sigmoid2U(float x)
    {
        var twoU = TwoSqrtTwoOverPi * x * (1f + Cubic * x * x);
        return 1f / (1f + MathF.Exp(-twoU));
    }
}
