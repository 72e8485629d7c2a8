namespace LlmCourse.Tensors.Tests.Ops;

using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cpu;
using LlmCourse.Tensors.Tests.Core;

/// <summary>
/// Every CPU unary operator's vectorised block (what runs) against its own scalar form (the readable
/// reference beside it), forward (also in place) and gradient. Tolerance: 2e-5 relative plus 1e-6 absolute, since the
/// vector forms use System.Numerics.Tensors' or our own exp/tanh/sin, a few ulp from MathF's.
/// </summary>
public sealed class UnaryOperatorTests
{
    public static TheoryData<string, float, float> Operators() => new()
    {
        { nameof(UnaryOp.Neg), 0f, 0f }, { nameof(UnaryOp.Exp), 0f, 0f }, { nameof(UnaryOp.Log), 0f, 0f }, { nameof(UnaryOp.Sqrt), 0f, 0f },
        { nameof(UnaryOp.Rsqrt), 0f, 0f }, { nameof(UnaryOp.Tanh), 0f, 0f }, { nameof(UnaryOp.Sigmoid), 0f, 0f }, { nameof(UnaryOp.Relu), 0f, 0f },
        { nameof(UnaryOp.Gelu), 0f, 0f }, { nameof(UnaryOp.GeluTanh), 0f, 0f }, { nameof(UnaryOp.Abs), 0f, 0f }, { nameof(UnaryOp.Square), 0f, 0f },
        { nameof(UnaryOp.Pow), 0f, 0f }, { nameof(UnaryOp.Pow), 3f, 0f }, { nameof(UnaryOp.Pow), -0.5f, 0f }, { nameof(UnaryOp.Pow), 2.5f, 0f },
        { nameof(UnaryOp.Clamp), -0.5f, 0.75f }, { nameof(UnaryOp.Clamp), float.NaN, 0.75f }, { nameof(UnaryOp.Clamp), -0.5f, float.NaN },
        { nameof(UnaryOp.LogSigmoid), 0f, 0f }, { nameof(UnaryOp.Sin), 0f, 0f }, { nameof(UnaryOp.Cos), 0f, 0f }, { nameof(UnaryOp.Reciprocal), 0f, 0f },
        { nameof(UnaryOp.Silu), 0f, 0f }, { nameof(UnaryOp.Softplus), 0f, 0f },
    };

    [Theory]
    [MemberData(nameof(Operators))]
    public void VectorBlockMatchesTheScalarForm(string name, float alpha, float beta)
    {
        var op = Enum.Parse<UnaryOp>(name);
        // A block length that is not a multiple of any vector width, so every loop's tail runs too.
        const int n = 2048 - 3;
        var x = Check.Values(n, 5, 2.5f);
        if (op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt or UnaryOp.Reciprocal or UnaryOp.Pow)
            for (var i = 0; i < n; i++) x[i] = MathF.Abs(x[i]) + 0.1f;   // inside the function's domain
        var gy = Check.Values(n, 6);
        var compare = new Compare(op, x, gy);
        UnaryOperators.Apply(op, alpha, beta, ref compare);
    }

    readonly struct Compare(UnaryOp name, float[] x, float[] gy) : IUnaryAction
    {
        public void Run<TOp>(TOp op) where TOp : struct, IUnaryOperator
        {
            var y = new float[x.Length];
            op.Forward(x, y);
            for (var i = 0; i < x.Length; i++) Near(y[i], op.Forward(x[i]), $"{name} forward, x = {x[i]}");
            // In place, as the backend runs a strided input (copied contiguous into y, then y = f(y)): the
            // same bits. (The overlapping last vector once re-read outputs as inputs: f(f(x)) at the end.)
            var inPlace = (float[])x.Clone();
            op.Forward(inPlace, inPlace);
            for (var i = 0; i < x.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(inPlace[i]) == BitConverter.SingleToInt32Bits(y[i]),
                    $"{name} forward in place, x[{i}] = {x[i]}: {inPlace[i]}, out of place {y[i]}");
            var gx = new float[x.Length];
            op.Backward(x, y, gy, gx);
            for (var i = 0; i < x.Length; i++) Near(gx[i], op.Backward(x[i], y[i], gy[i]), $"{name} backward, x = {x[i]}");
        }

        static void Near(float actual, float expected, string what) =>
            Assert.True(Math.Abs(actual - expected) <= 2e-5f * Math.Abs(expected) + 1e-6f, $"{what}: vector {actual}, scalar {expected}");
    }
}
