using System.Numerics.Tensors;

namespace LlmCourse.Tensors.Backends.Cpu;

/// <summary>
/// One readonly struct per binary op, in the same shape as the unary ones (<see cref="IUnaryOperator"/>):
/// a scalar form and its vectorised span forms (tensor-tensor, tensor-scalar, scalar-tensor), driven by
/// the one strided loop in <see cref="CpuBackend"/> (CpuBackend.Elementwise.cs). Generic instantiation
/// over the struct lets the JIT inline each call. Their gradients are not here but beside their forward
/// in Ops/Binary.cs, as tensor expressions: an operand that was broadcast needs its gradient summed
/// back to its shape, which is a tensor operation, not an element-wise one.
/// </summary>
internal interface IBinaryOperator
{
    static abstract float Invoke(float a, float b);

    static abstract void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    static abstract void Invoke(ReadOnlySpan<float> a, float b, Span<float> y);

    static abstract void Invoke(float a, ReadOnlySpan<float> b, Span<float> y);
}

internal readonly struct AddOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a + b;
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Add(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Add(b, a, y);
}

internal readonly struct SubtractOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a - b;
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Subtract(a, b, y);
}

internal readonly struct MultiplyOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a * b;
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Multiply(b, a, y);
}

internal readonly struct DivideOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => a / b;
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Divide(a, b, y);
}

internal readonly struct PowOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => MathF.Pow(a, b);
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Pow(a, b, y);
}

/// <summary>IEEE 754-2019 maximum: a NaN in either input gives NaN, like torch.maximum.</summary>
internal readonly struct MaximumOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => float.Max(a, b);
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Max(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Max(b, a, y);
}

internal readonly struct MinimumOperator : IBinaryOperator
{
    public static float Invoke(float a, float b) => float.Min(a, b);
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(a, b, y);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> y) => TensorPrimitives.Min(a, b, y);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> y) => TensorPrimitives.Min(b, a, y);
}
