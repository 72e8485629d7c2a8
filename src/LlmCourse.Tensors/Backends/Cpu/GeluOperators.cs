using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Exact GELU, x Phi(x), in one pass over the data. Phi(-|x|) = 0.5 t exp(P(t) - z^2), z = |x|/sqrt 2,
/// t = 1/(1 + z/2), P Numerical Recipes' Chebyshev fit of erfc (relative error below 1.2e-7).
/// Tested against the pass-per-step <see cref="GeluReference"/>. Backward reads Phi(x) back from the
/// output, y / x (a couple of ulps: one rounding in y, one in the division; Phi(0) = 1/2 where x is
/// too small to divide by), so it costs one exponential (phi) instead of two.
/// </summary>
internal readonly struct Gelu : IUnaryOperator, IVectorOperator, IVectorOutputGradient
{
    /// <summary>Below this |x|, Phi(x) is 1/2 to float precision (and y / x could be 0 / 0).</summary>
    const float Tiny = 1e-30f;

    public float Forward(float x) => x * GeluMath.Cdf(x);

    /// <summary>gx = gy (Phi(x) + x phi(x)); Phi from y = x Phi(x) when the caller has y (not NaN).</summary>
    public float Backward(float x, float y, float gy)
    {
        var cdf = float.IsNaN(y) ? GeluMath.Cdf(x) : MathF.Abs(x) < Tiny ? 0.5f : y / x;
        return gy * (cdf + x * FastExp.Exp(-0.5f * x * x) * GeluMath.InvSqrtTwoPi);
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => VectorLoops.Forward(this, x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) =>
        VectorLoops.BackwardFromOutput(this, x, y, gy, gx);

    public Vector256<float> Backward(Vector256<float> x, Vector256<float> y, Vector256<float> gy)
    {
        var cdf = Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Tiny)), Vector256.Create(0.5f), y / x);
        return gy * (cdf + x * FastExp.Exp(x * x * Vector256.Create(-0.5f)) * Vector256.Create(GeluMath.InvSqrtTwoPi));
    }

    public Vector512<float> Backward(Vector512<float> x, Vector512<float> y, Vector512<float> gy)
    {
        var cdf = Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Tiny)), Vector512.Create(0.5f), y / x);
        return gy * (cdf + x * FastExp.Exp(x * x * Vector512.Create(-0.5f)) * Vector512.Create(GeluMath.InvSqrtTwoPi));
    }

    public Vector256<float> Forward(Vector256<float> x) => x * GeluMath.Cdf(x);

    public Vector512<float> Forward(Vector512<float> x) => x * GeluMath.Cdf(x);

    public Vector256<float> Backward(Vector256<float> x, Vector256<float> gy) =>
        gy * (GeluMath.Cdf(x) + x * FastExp.Exp(x * x * Vector256.Create(-0.5f)) * Vector256.Create(GeluMath.InvSqrtTwoPi));

    public Vector512<float> Backward(Vector512<float> x, Vector512<float> gy) =>
        gy * (GeluMath.Cdf(x) + x * FastExp.Exp(x * x * Vector512.Create(-0.5f)) * Vector512.Create(GeluMath.InvSqrtTwoPi));
}

/// <summary>
/// GPT-2's tanh GELU, 0.5 x (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the sigmoid
/// form avoids the cancellation in 1 + tanh u for negative x. One pass over the data.
/// </summary>
internal readonly struct GeluTanh : IUnaryOperator, IVectorOperator
{
    public float Forward(float x) => x * GeluMath.Sigmoid2U(x);

    /// <summary>gx = gy (s + 2 x s (1 - s) u'), s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3c x^2).</summary>
    public float Backward(float x, float y, float gy)
    {
        var s = GeluMath.Sigmoid2U(x);
        return gy * (s + x * s * (1f - s) * (GeluMath.TwoSqrtTwoOverPi * (1f + 3f * GeluMath.Cubic * x * x)));
    }

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => VectorLoops.Forward(this, x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) => VectorLoops.Backward(this, x, gy, gx);

    public Vector256<float> Forward(Vector256<float> x) => x * GeluMath.Sigmoid2U(x);

    public Vector512<float> Forward(Vector512<float> x) => x * GeluMath.Sigmoid2U(x);

    public Vector256<float> Backward(Vector256<float> x, Vector256<float> gy)
    {
        var s = GeluMath.Sigmoid2U(x);
        var du = Vector256.Create(GeluMath.TwoSqrtTwoOverPi) * (Vector256<float>.One + Vector256.Create(3f * GeluMath.Cubic) * x * x);
        return gy * (s + x * s * (Vector256<float>.One - s) * du);
    }

    public Vector512<float> Backward(Vector512<float> x, Vector512<float> gy)
    {
        var s = GeluMath.Sigmoid2U(x);
        var du = Vector512.Create(GeluMath.TwoSqrtTwoOverPi) * (Vector512<float>.One + Vector512.Create(3f * GeluMath.Cubic) * x * x);
        return gy * (s + x * s * (Vector512<float>.One - s) * du);
    }
}

/// <summary>Phi(x) and sigmoid(2u) in each width, shared by both GELUs.</summary>
internal static class GeluMath
{
    internal const float InvSqrtTwo = 0.7071067811865476f;
    internal const float InvSqrtTwoPi = 0.3989422804014327f;
    internal const float TwoSqrtTwoOverPi = 1.5957691216057308f;   // 2 sqrt(2/pi)
    internal const float Cubic = 0.044715f;

    // erfc(z) = t exp(-z^2 + P(t)), P's coefficients from the highest power down.
    const float C9 = 0.17087277f, C8 = -0.82215223f, C7 = 1.48851587f, C6 = -1.13520398f, C5 = 0.27886807f,
        C4 = -0.18628806f, C3 = 0.09678418f, C2 = 0.37409196f, C1 = 1.00002368f, C0 = -1.26551223f;

    internal static float Cdf(float x)
    {
        var z = MathF.Abs(x) * InvSqrtTwo;
        var t = 1f / (1f + z * 0.5f);
        var p = C9;
        foreach (var c in (ReadOnlySpan<float>)[C8, C7, C6, C5, C4, C3, C2, C1, C0]) p = MathF.FusedMultiplyAdd(p, t, c);
        var lower = 0.5f * t * FastExp.Exp(p - z * z);   // Phi(-|x|)
        return x > 0f ? 1f - lower : lower;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Cdf(Vector256<float> x)
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
        var lower = Vector256.Create(0.5f) * t * FastExp.Exp(p - z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One - lower, lower);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Cdf(Vector512<float> x)
    {
        var z = Vector512.Abs(x) * Vector512.Create(InvSqrtTwo);
        var t = Reciprocal(Vector512<float>.One + z * Vector512.Create(0.5f));
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
        var lower = Vector512.Create(0.5f) * t * FastExp.Exp(p - z * z);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512<float>.One - lower, lower);
    }

    internal static float Sigmoid2U(float x) => 1f / (1f + FastExp.Exp(-TwoSqrtTwoOverPi * x * (1f + Cubic * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sigmoid2U(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + FastExp.Exp(-(Vector256.Create(TwoSqrtTwoOverPi) * x * (Vector256<float>.One + Vector256.Create(Cubic) * x * x))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Sigmoid2U(Vector512<float> x) =>
        Reciprocal(Vector512<float>.One + FastExp.Exp(-(Vector512.Create(TwoSqrtTwoOverPi) * x * (Vector512<float>.One + Vector512.Create(Cubic) * x * x))));

    /// <summary>
    /// 1/d: AVX-512's 14-bit estimate refined by one Newton step (about 2^-27 relative error) costs a
    /// third of a division; elsewhere a division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Reciprocal(Vector512<float> d)
    {
        if (!Avx512F.IsSupported) return Vector512<float>.One / d;
        var r = Avx512F.Reciprocal14(d);
        return r * (Vector512.Create(2f) - d * r);
    }
}

/// <summary>
/// GELU written pass by pass over the block, each step one System.Numerics.Tensors call: slower, but
/// each line is one term of the formula, so it is the reference the one-pass operators are tested against.
/// </summary>
internal static class GeluReference
{
    const float SqrtTwoOverPi = 0.7978845608028654f;
    const float GeluCoefficient = 0.044715f;
    const float InvSqrtTwo = 0.7071067811865476f;
    const float InvSqrtTwoPi = 0.3989422804014327f;

    /// <summary>The pass-per-step GELU the one-pass <see cref="Gelu"/> and <see cref="GeluTanh"/> are tested against (one block).</summary>
    [SkipLocalsInit] // scratch blocks are always written before they are read
    internal static void Forward(bool tanh, ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[x.Length];
        if (tanh)
        {
            // 0.5 x (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the sigmoid form
            // avoids the cancellation in 1 + tanh u for negative x.
            GeluTanhInner(x, t);
            TensorPrimitives.Sigmoid(t, t);
        }
        else NormalCdf(x, t); // x Phi(x), Phi(x) = 0.5 erfc(-x / sqrt 2)
        TensorPrimitives.Multiply(t, x, y);
    }

    /// <summary>Reference gradient: gx = gy * GELU'(x).</summary>
    [SkipLocalsInit] // scratch blocks are always written before they are read
    internal static void Backward(bool tanh, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        Span<float> u = stackalloc float[x.Length];
        if (tanh)
        {
            // y = x s with s = sigmoid(2u): y' = s + 2 x s (1 - s) u', u' = sqrt(2/pi) (1 + 3c x^2)
            GeluTanhInner(x, t);
            TensorPrimitives.Sigmoid(t, t);                              // t = s
            TensorPrimitives.Multiply(x, x, u);
            TensorPrimitives.Multiply(u, 3f * GeluCoefficient * 2f * SqrtTwoOverPi, u);
            TensorPrimitives.Add(u, 2f * SqrtTwoOverPi, u);              // u = 2u'
            TensorPrimitives.Multiply(u, x, u);                          // u = 2 x u'
            Span<float> s1 = stackalloc float[x.Length];
            TensorPrimitives.Subtract(1f, t, s1);
            TensorPrimitives.Multiply(s1, t, s1);                        // s (1 - s)
            TensorPrimitives.MultiplyAdd(s1, u, t, t);                   // s + 2 x s (1 - s) u'
        }
        else
        {
            // Phi(x) + x phi(x)
            NormalCdf(x, t);
            TensorPrimitives.Multiply(x, x, u);
            TensorPrimitives.Multiply(u, -0.5f, u);
            TensorPrimitives.Exp(u, u);
            TensorPrimitives.Multiply(u, InvSqrtTwoPi, u);
            TensorPrimitives.Multiply(u, x, u);
            TensorPrimitives.Add(t, u, t);
        }
        TensorPrimitives.Multiply(t, gy, gx);
    }

    /// <summary>2u = 2 sqrt(2/pi) (x + 0.044715 x^3), the argument of GELU's sigmoid form.</summary>
    static void GeluTanhInner(ReadOnlySpan<float> x, Span<float> result)
    {
        TensorPrimitives.Multiply(x, x, result);
        TensorPrimitives.Multiply(result, GeluCoefficient, result);
        TensorPrimitives.Add(result, 1f, result);
        TensorPrimitives.Multiply(result, x, result);
        TensorPrimitives.Multiply(result, 2f * SqrtTwoOverPi, result);
    }

    /// <summary>
    /// Phi(x) = 0.5 erfc(-x / sqrt 2), with erfc from Numerical Recipes' Chebyshev fit (relative error
    /// below 1.2e-7 everywhere), evaluated on |z| and reflected: erfc(-z) = 2 - erfc(z).
    /// </summary>
    [SkipLocalsInit] // scratch blocks are always written before they are read
    internal static void NormalCdf(ReadOnlySpan<float> x, Span<float> result)
    {
        Span<float> z = stackalloc float[x.Length];
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Abs(x, z);
        TensorPrimitives.Multiply(z, InvSqrtTwo, z);                  // z = |x| / sqrt 2
        TensorPrimitives.Multiply(z, 0.5f, t);
        TensorPrimitives.Add(t, 1f, t);
        TensorPrimitives.Reciprocal(t, t);                            // t = 1 / (1 + z/2)
        // Horner: poly = -z^2 - 1.26551223 + t(1.00002368 + t(0.37409196 + ...))
        var p = result;
        p.Fill(0.17087277f);
        ReadOnlySpan<float> c = [-0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f];
        foreach (var coefficient in c) TensorPrimitives.MultiplyAdd(p, t, coefficient, p);
        TensorPrimitives.Multiply(z, z, z);
        TensorPrimitives.Subtract(p, z, p);
        TensorPrimitives.Exp(p, p);
        TensorPrimitives.Multiply(p, t, p);                           // p = erfc(|x| / sqrt 2)
        TensorPrimitives.Multiply(p, 0.5f, p);                        // p = Phi(-|x|)
        for (var i = 0; i < x.Length; i++)
            if (x[i] > 0f) p[i] = 1f - p[i];                          // Phi(x) = 1 - Phi(-x)
    }
}
