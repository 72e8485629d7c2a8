using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// Every element-wise function of one tensor, forward (<c>y = f(x)</c>) beside its derivative
/// (<c>gx = gy * f'(x)</c>, using the saved output <c>y</c> where that is cheaper). Each works on one
/// block of at most <see cref="CpuBackend.Block"/> contiguous elements, chaining vectorised
/// <see cref="TensorPrimitives"/> passes over an L1-resident scratch buffer; x and y may be the same span.
/// </summary>
internal static class UnaryKernels
{
    const float SqrtTwoOverPi = 0.7978845608028654f;
    const float GeluCoefficient = 0.044715f;
    const float InvSqrtTwo = 0.7071067811865476f;
    const float InvSqrtTwoPi = 0.3989422804014327f;

    [SkipLocalsInit] // scratch blocks are always written before they are read
    public static void Forward(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float alpha, float beta)
    {
        Span<float> t = stackalloc float[x.Length];
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: FastExp.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Rsqrt: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Sin: TensorPrimitives.Sin(x, y); break;
            case UnaryOp.Cos: TensorPrimitives.Cos(x, y); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); break;
            case UnaryOp.Pow: Pow(x, alpha, y); break;
            case UnaryOp.Clamp:
                // NaN marks a missing bound; Max/Min propagate NaN inputs like torch.clamp.
                if (float.IsNaN(alpha) && float.IsNaN(beta)) x.CopyTo(y);
                else if (float.IsNaN(beta)) TensorPrimitives.Max(x, alpha, y);
                else if (float.IsNaN(alpha)) TensorPrimitives.Min(x, beta, y);
                else
                {
                    TensorPrimitives.Max(x, alpha, y);
                    TensorPrimitives.Min(y, beta, y);
                }
                break;
            case UnaryOp.GeluTanh: GeluKernels.TanhForward(x, y); break;
            case UnaryOp.Gelu: GeluKernels.Forward(x, y); break;
            case UnaryOp.LogSigmoid: // min(x, 0) - log1p(exp(-|x|))
                Log1pExpNegAbs(x, t);
                TensorPrimitives.Min(x, 0f, y);
                TensorPrimitives.Subtract(y, t, y);
                break;
            case UnaryOp.Softplus: // max(x, 0) + log1p(exp(-|x|))
                Log1pExpNegAbs(x, t);
                TensorPrimitives.Max(x, 0f, y);
                TensorPrimitives.Add(y, t, y);
                break;
            case UnaryOp.Silu:
                TensorPrimitives.Sigmoid(x, t);
                TensorPrimitives.Multiply(t, x, y);
                break;
            default:
                throw new NotSupportedException($"Unary op {op} has no CPU kernel.");
        }
    }

    [SkipLocalsInit] // scratch blocks are always written before they are read
    public static void Backward(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx,
        float alpha, float beta)
    {
        Span<float> t = stackalloc float[x.Length];
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(gy, gx); break;
            case UnaryOp.Exp: TensorPrimitives.Multiply(gy, y, gx); break; // e^x' = e^x
            case UnaryOp.Log: TensorPrimitives.Divide(gy, x, gx); break;
            case UnaryOp.Sqrt: // 0.5 / sqrt(x)
                TensorPrimitives.Divide(gy, y, gx);
                TensorPrimitives.Multiply(gx, 0.5f, gx);
                break;
            case UnaryOp.Rsqrt: // -0.5 x^(-3/2) = -0.5 y^3
                TensorPrimitives.Multiply(y, y, t);
                TensorPrimitives.Multiply(t, y, t);
                TensorPrimitives.Multiply(t, -0.5f, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            case UnaryOp.Tanh: // 1 - y^2
                TensorPrimitives.Multiply(y, y, t);
                TensorPrimitives.Subtract(1f, t, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            case UnaryOp.Sigmoid: // y (1 - y)
                TensorPrimitives.Subtract(1f, y, t);
                TensorPrimitives.Multiply(t, y, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            case UnaryOp.Relu: // passes where the output is positive (PyTorch's threshold_backward)
                Select(y, gy, gx, static (v, g) => Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), g, Vector<float>.Zero),
                    static (v, g) => v > 0 ? g : 0f);
                break;
            case UnaryOp.Abs: // sign(x), 0 at 0
                Select(x, gy, gx,
                    static (v, g) => Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), g,
                        Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), -g, Vector<float>.Zero)),
                    static (v, g) => v > 0 ? g : v < 0 ? -g : 0f);
                break;
            case UnaryOp.Square:
                TensorPrimitives.Multiply(x, gy, gx);
                TensorPrimitives.Multiply(gx, 2f, gx);
                break;
            case UnaryOp.Sin:
                TensorPrimitives.Cos(x, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            case UnaryOp.Cos:
                TensorPrimitives.Sin(x, t);
                TensorPrimitives.Multiply(t, gy, t);
                TensorPrimitives.Negate(t, gx);
                break;
            case UnaryOp.Reciprocal: // -1/x^2 = -y^2
                TensorPrimitives.Multiply(y, y, t);
                TensorPrimitives.Multiply(t, gy, t);
                TensorPrimitives.Negate(t, gx);
                break;
            case UnaryOp.Pow: // p x^(p-1), zero for p == 0 (PyTorch's pow_backward)
                if (alpha == 0f) gx.Clear();
                else
                {
                    Pow(x, alpha - 1f, t);
                    TensorPrimitives.Multiply(t, alpha, t);
                    TensorPrimitives.Multiply(t, gy, gx);
                }
                break;
            case UnaryOp.Clamp: // passes where min <= x <= max
                for (var i = 0; i < x.Length; i++)
                {
                    var v = x[i];
                    var inside = (float.IsNaN(alpha) || v >= alpha) && (float.IsNaN(beta) || v <= beta);
                    gx[i] = inside ? gy[i] : 0f;
                }
                break;
            case UnaryOp.GeluTanh: GeluKernels.TanhBackward(x, gy, gx); break;
            case UnaryOp.Gelu: GeluKernels.Backward(x, gy, gx); break;
            case UnaryOp.LogSigmoid: // sigmoid(-x)
                TensorPrimitives.Negate(x, t);
                TensorPrimitives.Sigmoid(t, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            case UnaryOp.Softplus: // sigmoid(x)
                TensorPrimitives.Sigmoid(x, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            case UnaryOp.Silu: // s (1 + x (1 - s))
            {
                Span<float> s = stackalloc float[x.Length];
                TensorPrimitives.Sigmoid(x, s);
                TensorPrimitives.Subtract(1f, s, t);
                TensorPrimitives.MultiplyAdd(t, x, 1f, t);
                TensorPrimitives.Multiply(t, s, t);
                TensorPrimitives.Multiply(t, gy, gx);
                break;
            }
            default:
                throw new NotSupportedException($"Unary op {op} has no CPU backward kernel.");
        }
    }


    /// <summary>The pass-per-step GELU the fused <see cref="GeluKernels"/> are tested against (one block).</summary>
    [SkipLocalsInit] // scratch blocks are always written before they are read
    internal static void GeluReferenceForward(bool tanh, ReadOnlySpan<float> x, Span<float> y)
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
    internal static void GeluReferenceBackward(bool tanh, ReadOnlySpan<float> x, ReadOnlySpan<float> gy, Span<float> gx)
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

    /// <summary>log1p(exp(-|x|)): the part of log-sigmoid and softplus that never exponentiates a large positive number.</summary>
    static void Log1pExpNegAbs(ReadOnlySpan<float> x, Span<float> result)
    {
        TensorPrimitives.Abs(x, result);
        TensorPrimitives.Negate(result, result);
        TensorPrimitives.Exp(result, result);
        TensorPrimitives.LogP1(result, result);
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

    /// <summary>x^p with PyTorch's exact special cases (x^2 is x*x, not exp(2 log x)).</summary>
    [SkipLocalsInit] // scratch blocks are always written before they are read
    static void Pow(ReadOnlySpan<float> x, float p, Span<float> y)
    {
        switch (p)
        {
            case 0f: y.Fill(1f); break;
            case 1f: x.CopyTo(y); break;
            case 2f: TensorPrimitives.Multiply(x, x, y); break;
            case 3f:
                Span<float> t = stackalloc float[x.Length];
                TensorPrimitives.Multiply(x, x, t);
                TensorPrimitives.Multiply(t, x, y);
                break;
            case 0.5f: TensorPrimitives.Sqrt(x, y); break;
            case -0.5f: TensorPrimitives.ReciprocalSqrt(x, y); break;
            case -1f: TensorPrimitives.Reciprocal(x, y); break;
            case -2f:
                TensorPrimitives.Multiply(x, x, y);
                TensorPrimitives.Reciprocal(y, y);
                break;
            default: TensorPrimitives.Pow(x, p, y); break;
        }
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

    /// <summary>gx = choose(v, g) element-wise, vectorised with <see cref="Vector{T}"/>.</summary>
    static void Select(ReadOnlySpan<float> v, ReadOnlySpan<float> g, Span<float> result,
        Func<Vector<float>, Vector<float>, Vector<float>> vector, Func<float, float, float> scalar)
    {
        var i = 0;
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
        var rv = MemoryMarshal.Cast<float, Vector<float>>(result);
        for (var k = 0; k < vv.Length; k++) rv[k] = vector(vv[k], gv[k]);
        i = vv.Length * Vector<float>.Count;
        for (; i < v.Length; i++) result[i] = scalar(v[i], g[i]);
    }
}
