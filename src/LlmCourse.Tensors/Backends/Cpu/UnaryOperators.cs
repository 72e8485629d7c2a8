using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LlmCourse.Tensors.Backends.Cpu;

// Every element-wise function of one tensor as an IUnaryOperator (UnaryOperator.cs): forward, then its
// gradient, each as a scalar reference and a vectorised block. The vectorised blocks chain
// System.Numerics.Tensors passes over the block (L1-resident), with a stack scratch block where a
// formula needs one; [SkipLocalsInit] because each scratch block is written before it is read.
// GELU's two forms are in GeluOperators.cs.

/// <summary>Turns the backend's <see cref="UnaryOp"/> into its operator struct: the one switch over unary ops.</summary>
internal static class UnaryOperators
{
    public static void Apply<TAction>(UnaryOp op, float alpha, float beta, ref TAction action) where TAction : struct, IUnaryAction
    {
        switch (op)
        {
            case UnaryOp.Neg: action.Run(new Neg()); break;
            case UnaryOp.Exp: action.Run(new Exp()); break;
            case UnaryOp.Log: action.Run(new Log()); break;
            case UnaryOp.Sqrt: action.Run(new Sqrt()); break;
            case UnaryOp.Rsqrt: action.Run(new Rsqrt()); break;
            case UnaryOp.Tanh: action.Run(new Tanh()); break;
            case UnaryOp.Sigmoid: action.Run(new Sigmoid()); break;
            case UnaryOp.Relu: action.Run(new Relu()); break;
            case UnaryOp.Gelu: action.Run(new Gelu()); break;
            case UnaryOp.GeluTanh: action.Run(new GeluTanh()); break;
            case UnaryOp.Abs: action.Run(new Abs()); break;
            case UnaryOp.Square: action.Run(new Square()); break;
            case UnaryOp.Pow: action.Run(new Pow(alpha)); break;
            case UnaryOp.Clamp: action.Run(new Clamp(alpha, beta)); break;
            case UnaryOp.LogSigmoid: action.Run(new LogSigmoid()); break;
            case UnaryOp.Sin: action.Run(new Sin()); break;
            case UnaryOp.Cos: action.Run(new Cos()); break;
            case UnaryOp.Reciprocal: action.Run(new Reciprocal()); break;
            case UnaryOp.Silu: action.Run(new Silu()); break;
            case UnaryOp.Softplus: action.Run(new Softplus()); break;
            default: throw new NotSupportedException($"Unary op {op} has no CPU kernel.");
        }
    }

    /// <summary>log1p(exp(-|x|)): the part of log-sigmoid and softplus that never exponentiates a large positive number.</summary>
    internal static void Log1pExpNegAbs(ReadOnlySpan<float> x, Span<float> result)
    {
        TensorPrimitives.Abs(x, result);
        TensorPrimitives.Negate(result, result);
        TensorPrimitives.Exp(result, result);
        TensorPrimitives.LogP1(result, result);
    }

    internal static float Log1pExpNegAbs(float x) => float.LogP1(MathF.Exp(-MathF.Abs(x)));

    internal static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}

internal readonly struct Neg : IUnaryOperator
{
    public float Forward(float x) => -x;
    public float Backward(float x, float y, float gy) => -gy;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Negate(x, y);
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) => TensorPrimitives.Negate(gy, gx);
}

/// <summary>e^x, whose derivative is itself: the gradient reads the saved output.</summary>
internal readonly struct Exp : IUnaryOperator
{
    public float Forward(float x) => FastExp.Exp(x);
    public float Backward(float x, float y, float gy) => gy * y;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => FastExp.Exp(x, y);
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) => TensorPrimitives.Multiply(gy, y, gx);
}

internal readonly struct Log : IUnaryOperator
{
    public float Forward(float x) => MathF.Log(x);
    public float Backward(float x, float y, float gy) => gy / x;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Log(x, y);
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) => TensorPrimitives.Divide(gy, x, gx);
}

/// <summary>sqrt(x); derivative 0.5 / sqrt(x) = 0.5 / y.</summary>
internal readonly struct Sqrt : IUnaryOperator
{
    public float Forward(float x) => MathF.Sqrt(x);
    public float Backward(float x, float y, float gy) => gy / y * 0.5f;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sqrt(x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        TensorPrimitives.Divide(gy, y, gx);
        TensorPrimitives.Multiply(gx, 0.5f, gx);
    }
}

/// <summary>1 / sqrt(x); derivative -0.5 x^(-3/2) = -0.5 y^3.</summary>
internal readonly struct Rsqrt : IUnaryOperator
{
    public float Forward(float x) => 1f / MathF.Sqrt(x);
    public float Backward(float x, float y, float gy) => y * y * y * -0.5f * gy;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.ReciprocalSqrt(x, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Multiply(y, y, t);
        TensorPrimitives.Multiply(t, y, t);
        TensorPrimitives.Multiply(t, -0.5f, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}

/// <summary>tanh(x); derivative 1 - y^2.</summary>
internal readonly struct Tanh : IUnaryOperator
{
    public float Forward(float x) => MathF.Tanh(x);
    public float Backward(float x, float y, float gy) => (1f - y * y) * gy;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Multiply(y, y, t);
        TensorPrimitives.Subtract(1f, t, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}

/// <summary>1 / (1 + e^-x); derivative y (1 - y).</summary>
internal readonly struct Sigmoid : IUnaryOperator
{
    public float Forward(float x) => UnaryOperators.Sigmoid(x);
    public float Backward(float x, float y, float gy) => (1f - y) * y * gy;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Subtract(1f, y, t);
        TensorPrimitives.Multiply(t, y, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}

/// <summary>max(x, 0); the gradient passes where the input is positive (PyTorch's threshold_backward).</summary>
internal readonly struct Relu : IUnaryOperator, IVectorOperator
{
    public float Forward(float x) => float.Max(x, 0f);
    public float Backward(float x, float y, float gy) => x > 0f ? gy : 0f;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) => VectorLoops.Backward(this, x, gy, gx);

    public Vector256<float> Forward(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);
    public Vector512<float> Forward(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);

    public Vector256<float> Backward(Vector256<float> x, Vector256<float> gy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), gy, Vector256<float>.Zero);

    public Vector512<float> Backward(Vector512<float> x, Vector512<float> gy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), gy, Vector512<float>.Zero);
}

/// <summary>|x|; derivative sign(x), 0 at 0.</summary>
internal readonly struct Abs : IUnaryOperator, IVectorOperator
{
    public float Forward(float x) => MathF.Abs(x);
    public float Backward(float x, float y, float gy) => x > 0f ? gy : x < 0f ? -gy : 0f;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Abs(x, y);
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx) => VectorLoops.Backward(this, x, gy, gx);

    public Vector256<float> Forward(Vector256<float> x) => Vector256.Abs(x);
    public Vector512<float> Forward(Vector512<float> x) => Vector512.Abs(x);

    public Vector256<float> Backward(Vector256<float> x, Vector256<float> gy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), gy,
            Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -gy, Vector256<float>.Zero));

    public Vector512<float> Backward(Vector512<float> x, Vector512<float> gy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), gy,
            Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -gy, Vector512<float>.Zero));
}

/// <summary>x^2; derivative 2x.</summary>
internal readonly struct Square : IUnaryOperator
{
    public float Forward(float x) => x * x;
    public float Backward(float x, float y, float gy) => x * gy * 2f;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Multiply(x, x, y);

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        TensorPrimitives.Multiply(x, gy, gx);
        TensorPrimitives.Multiply(gx, 2f, gx);
    }
}

internal readonly struct Sin : IUnaryOperator
{
    public float Forward(float x) => MathF.Sin(x);
    public float Backward(float x, float y, float gy) => MathF.Cos(x) * gy;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sin(x, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Cos(x, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}

internal readonly struct Cos : IUnaryOperator
{
    public float Forward(float x) => MathF.Cos(x);
    public float Backward(float x, float y, float gy) => -(MathF.Sin(x) * gy);
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Cos(x, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Sin(x, t);
        TensorPrimitives.Multiply(t, gy, t);
        TensorPrimitives.Negate(t, gx);
    }
}

/// <summary>1 / x; derivative -1/x^2 = -y^2.</summary>
internal readonly struct Reciprocal : IUnaryOperator
{
    public float Forward(float x) => 1f / x;
    public float Backward(float x, float y, float gy) => -(y * y * gy);
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Reciprocal(x, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Multiply(y, y, t);
        TensorPrimitives.Multiply(t, gy, t);
        TensorPrimitives.Negate(t, gx);
    }
}

/// <summary>x^p for a constant p, with PyTorch's exact special cases (x^2 is x*x, not exp(2 log x));
/// derivative p x^(p-1), zero for p == 0 (PyTorch's pow_backward).</summary>
internal readonly struct Pow(float p) : IUnaryOperator
{
    public float Forward(float x) => Of(x, p);
    public float Backward(float x, float y, float gy) => p == 0f ? 0f : Of(x, p - 1f) * p * gy;
    public void Forward(ReadOnlySpan<float> x, Span<float> y) => Of(x, p, y);

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        if (p == 0f) { gx.Clear(); return; }
        Span<float> t = stackalloc float[x.Length];
        Of(x, p - 1f, t);
        TensorPrimitives.Multiply(t, p, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }

    static float Of(float x, float p) => p switch
    {
        0f => 1f,
        1f => x,
        2f => x * x,
        3f => x * x * x,
        0.5f => MathF.Sqrt(x),
        -0.5f => 1f / MathF.Sqrt(x),
        -1f => 1f / x,
        -2f => 1f / (x * x),
        _ => MathF.Pow(x, p),
    };

    [SkipLocalsInit]
    static void Of(ReadOnlySpan<float> x, float p, Span<float> y)
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
}

/// <summary>x limited to [min, max], NaN marking a missing bound; NaN inputs stay NaN like torch.clamp.
/// The gradient passes where min &lt;= x &lt;= max.</summary>
internal readonly struct Clamp(float min, float max) : IUnaryOperator
{
    public float Forward(float x) =>
        float.IsNaN(min) && float.IsNaN(max) ? x
        : float.IsNaN(max) ? float.Max(x, min)
        : float.IsNaN(min) ? float.Min(x, max)
        : float.Min(float.Max(x, min), max);

    public float Backward(float x, float y, float gy) => (float.IsNaN(min) || x >= min) && (float.IsNaN(max) || x <= max) ? gy : 0f;

    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (float.IsNaN(min) && float.IsNaN(max)) x.CopyTo(y);
        else if (float.IsNaN(max)) TensorPrimitives.Max(x, min, y);
        else if (float.IsNaN(min)) TensorPrimitives.Min(x, max, y);
        else
        {
            TensorPrimitives.Max(x, min, y);
            TensorPrimitives.Min(y, max, y);
        }
    }

    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        for (var i = 0; i < x.Length; i++) gx[i] = Backward(x[i], y[i], gy[i]);
    }
}

/// <summary>log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), never exponentiating a large positive number
/// (DPO's loss); derivative sigmoid(-x).</summary>
internal readonly struct LogSigmoid : IUnaryOperator
{
    public float Forward(float x) => float.Min(x, 0f) - UnaryOperators.Log1pExpNegAbs(x);
    public float Backward(float x, float y, float gy) => UnaryOperators.Sigmoid(-x) * gy;

    [SkipLocalsInit]
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[x.Length];
        UnaryOperators.Log1pExpNegAbs(x, t);
        TensorPrimitives.Min(x, 0f, y);
        TensorPrimitives.Subtract(y, t, y);
    }

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Negate(x, t);
        TensorPrimitives.Sigmoid(t, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}

/// <summary>log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), without overflow; derivative sigmoid(x).</summary>
internal readonly struct Softplus : IUnaryOperator
{
    public float Forward(float x) => float.Max(x, 0f) + UnaryOperators.Log1pExpNegAbs(x);
    public float Backward(float x, float y, float gy) => UnaryOperators.Sigmoid(x) * gy;

    [SkipLocalsInit]
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[x.Length];
        UnaryOperators.Log1pExpNegAbs(x, t);
        TensorPrimitives.Max(x, 0f, y);
        TensorPrimitives.Add(y, t, y);
    }

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Sigmoid(x, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}

/// <summary>SiLU (swish), x sigmoid(x); derivative s (1 + x (1 - s)) with s = sigmoid(x).</summary>
internal readonly struct Silu : IUnaryOperator
{
    public float Forward(float x) => UnaryOperators.Sigmoid(x) * x;

    public float Backward(float x, float y, float gy)
    {
        var s = UnaryOperators.Sigmoid(x);
        return s * (1f + x * (1f - s)) * gy;
    }

    [SkipLocalsInit]
    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Sigmoid(x, t);
        TensorPrimitives.Multiply(t, x, y);
    }

    [SkipLocalsInit]
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gy, Span<float> gx)
    {
        Span<float> s = stackalloc float[x.Length];
        Span<float> t = stackalloc float[x.Length];
        TensorPrimitives.Sigmoid(x, s);
        TensorPrimitives.Subtract(1f, s, t);
        TensorPrimitives.MultiplyAdd(t, x, 1f, t);
        TensorPrimitives.Multiply(t, s, t);
        TensorPrimitives.Multiply(t, gy, gx);
    }
}
