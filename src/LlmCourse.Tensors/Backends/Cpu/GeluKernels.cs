using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// GELU in one pass over the data, as operator structs for <see cref="VectorLoops"/> (the
/// pass-per-step versions in <see cref="UnaryKernels"/> are the reference these are tested against).
/// Exact GELU is x Phi(x) with Phi(-|x|) = 0.5 t exp(P(t) - z^2), z = |x|/sqrt 2, t = 1/(1 + z/2),
/// P Numerical Recipes' Chebyshev fit of erfc (relative error below 1.2e-7); the tanh form is
/// x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
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

    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => VectorLoops.Map<Exact>(x, y);

    /// <summary>gx = gy (Phi(x) + x phi(x)).</summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx) => VectorLoops.Map<ExactGradient>(x, gy, gx);

    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y) => VectorLoops.Map<Tanh>(x, y);

    /// <summary>gx = gy (s + 2 x s (1 - s) u'), s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3c x^2).</summary>
    public static void TanhBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx) => VectorLoops.Map<TanhGradient>(x, gy, gx);

    readonly struct Exact : IVectorFunction
    {
        public static float Invoke(float x) => x * Cdf(x);
        public static Vector256<float> Invoke(Vector256<float> x) => x * Cdf(x);
        public static Vector512<float> Invoke(Vector512<float> x) => x * Cdf(x);
    }

    readonly struct ExactGradient : IVectorFunction2
    {
        public static float Invoke(float x, float g) => g * (Cdf(x) + x * FastExp.Exp(-0.5f * x * x) * InvSqrtTwoPi);

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> g) =>
            g * (Cdf(x) + x * FastExp.Exp(x * x * Vector256.Create(-0.5f)) * Vector256.Create(InvSqrtTwoPi));

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> g) =>
            g * (Cdf(x) + x * FastExp.Exp(x * x * Vector512.Create(-0.5f)) * Vector512.Create(InvSqrtTwoPi));
    }

    readonly struct Tanh : IVectorFunction
    {
        public static float Invoke(float x) => x * Sigmoid2U(x);
        public static Vector256<float> Invoke(Vector256<float> x) => x * Sigmoid2U(x);
        public static Vector512<float> Invoke(Vector512<float> x) => x * Sigmoid2U(x);
    }

    readonly struct TanhGradient : IVectorFunction2
    {
        public static float Invoke(float x, float g)
        {
            var s = Sigmoid2U(x);
            return g * (s + x * s * (1f - s) * (TwoSqrtTwoOverPi * (1f + 3f * Cubic * x * x)));
        }

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> g)
        {
            var s = Sigmoid2U(x);
            var du = Vector256.Create(TwoSqrtTwoOverPi) * (Vector256<float>.One + Vector256.Create(3f * Cubic) * x * x);
            return g * (s + x * s * (Vector256<float>.One - s) * du);
        }

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> g)
        {
            var s = Sigmoid2U(x);
            var du = Vector512.Create(TwoSqrtTwoOverPi) * (Vector512<float>.One + Vector512.Create(3f * Cubic) * x * x);
            return g * (s + x * s * (Vector512<float>.One - s) * du);
        }
    }

    // ---- Phi(x) and sigmoid(2u) in each width ---------------------------------------------------

    static float Cdf(float x)
    {
        var z = MathF.Abs(x) * InvSqrtTwo;
        var t = 1f / (1f + z * 0.5f);
        var p = C9;
        foreach (var c in (ReadOnlySpan<float>)[C8, C7, C6, C5, C4, C3, C2, C1, C0]) p = MathF.FusedMultiplyAdd(p, t, c);
        var lower = 0.5f * t * FastExp.Exp(p - z * z);   // Phi(-|x|)
        return x > 0f ? 1f - lower : lower;
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
        var lower = Vector256.Create(0.5f) * t * FastExp.Exp(p - z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One - lower, lower);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Cdf(Vector512<float> x)
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

    static float Sigmoid2U(float x) => 1f / (1f + FastExp.Exp(-TwoSqrtTwoOverPi * x * (1f + Cubic * x * x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Sigmoid2U(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + FastExp.Exp(-(Vector256.Create(TwoSqrtTwoOverPi) * x * (Vector256<float>.One + Vector256.Create(Cubic) * x * x))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Sigmoid2U(Vector512<float> x) =>
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
