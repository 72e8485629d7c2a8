using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// exp for float vectors in float arithmetic (the runtime's Vector512.Exp widens to double, twice the
/// work). Cephes' expf: x = n ln2 + r with ln2 split in two so r is exact, exp(r) by a degree-6
/// polynomial, 2^n applied as two exponent-bit factors (so subnormal results come out right). Error
/// within 2 ulp of the true value on the normal range (tested against double precision); subnormal
/// down to exp(-103.9), 0 below, +inf above exp(88.72), NaN stays NaN.
/// </summary>
internal static class FastExp
{
    const float Log2E = 1.44269504088896341f;
    const float Ln2High = 0.693359375f;
    const float Ln2Low = -2.12194440e-4f;
    const float Lowest = -103.97208f;  // exp(Lowest) is below the smallest subnormal float
    const float Highest = 88.72283f;   // exp(Highest) is the largest finite float
    const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
        P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(Lowest)), Vector512.Create(Highest));
        var n = Vector512.Round(clamped * Vector512.Create(Log2E));
        var r = clamped - n * Vector512.Create(Ln2High);
        r -= n * Vector512.Create(Ln2Low);
        var r2 = r * r;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r2, r + Vector512<float>.One);
        // 2^n as 2^(n/2) 2^(n - n/2): each factor's exponent field stays in range for n in [-150, 128],
        // and the last product rounds a subnormal result correctly.
        var ni = Vector512.ConvertToInt32(n);
        var half = Vector512.ShiftRightArithmetic(ni, 1);
        var result = p * Pow2(half) * Pow2(ni - half);
        result = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(Lowest)), Vector512<float>.Zero, result);
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Highest)), Vector512.Create(float.PositiveInfinity), result);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x); // NaN in, NaN out
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(Lowest)), Vector256.Create(Highest));
        var n = Vector256.Round(clamped * Vector256.Create(Log2E));
        var r = clamped - n * Vector256.Create(Ln2High);
        r -= n * Vector256.Create(Ln2Low);
        var r2 = r * r;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r2, r + Vector256<float>.One);
        var ni = Vector256.ConvertToInt32(n);
        var half = Vector256.ShiftRightArithmetic(ni, 1);
        var result = p * Pow2(half) * Pow2(ni - half);
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Lowest)), Vector256<float>.Zero, result);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Highest)), Vector256.Create(float.PositiveInfinity), result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x < Lowest) return 0f;
        if (x > Highest) return float.PositiveInfinity;
        var n = MathF.Round(x * Log2E);
        var r = x - n * Ln2High;
        r -= n * Ln2Low;
        var r2 = r * r;
        var p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        p = MathF.FusedMultiplyAdd(p, r2, r + 1f);
        var ni = (int)n;
        var half = ni >> 1;
        return p * BitConverter.Int32BitsToSingle((half + 127) << 23) * BitConverter.Int32BitsToSingle((ni - half + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Pow2(Vector512<int> e) => Vector512.ShiftLeft(e + Vector512.Create(127), 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Pow2(Vector256<int> e) => Vector256.ShiftLeft(e + Vector256.Create(127), 23).AsSingle();

    /// <summary>y = exp(x) over a span (x and y may be the same).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => ExpSum(x, 0f, y);

    /// <summary>y = exp(x - shift) over a span (x and y may be the same); returns the sum of y.</summary>
    public static float ExpSum(ReadOnlySpan<float> x, float shift, Span<float> y)
    {
        var i = 0;
        var sum = 0f;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var yr = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count)
        {
            var acc = Vector512<float>.Zero;
            var s = Vector512.Create(shift);
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var e = Exp(Vector512.LoadUnsafe(ref xr, (nuint)i) - s);
                e.StoreUnsafe(ref yr, (nuint)i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            var s = Vector256.Create(shift);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var e = Exp(Vector256.LoadUnsafe(ref xr, (nuint)i) - s);
                e.StoreUnsafe(ref yr, (nuint)i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            var e = Exp(x[i] - shift);
            y[i] = e;
            sum += e;
        }
        return sum;
    }
}
