using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>Which tanh-based GELU: <c>None</c> is the exact erf form (PyTorch's default), <c>Tanh</c> GPT-2's approximation.</summary>
public enum GeluApproximation
{
    None,
    Tanh,
}

/// <summary>
/// Element-wise functions of one tensor. The math of each, forward and derivative side by side, is
/// one operator struct per op in Backends/Cpu/UnaryOperators.cs (and one device function pair in
/// Backends/Cuda/Kernels/elementwise.cu); the node here saves x and y for the derivative.
/// Int32 inputs are promoted to Float32, like PyTorch does for these functions.
/// Under autocast an activation (GELU, ReLU, SiLU, tanh, sigmoid) of a 16-bit result (a product's: Linear,
/// MatMul) is a 16-bit result too, and so is its input's gradient: PyTorch runs these ops in their input's dtype
/// (bf16 in, bf16 out), where ops it promotes to float32 (exp, log, pow, ...) and any op of a float32 input stay
/// float32. In a transformer's MLP this changes no value: the next product rounds GELU's output anyway, and the
/// previous one its gradient. It lets a GPU keep both in 16 bits (half the bytes).
/// </summary>
public sealed partial class Tensor
{
    public Tensor Neg() => Unary(UnaryOp.Neg, "Neg");

    public Tensor Exp() => Unary(UnaryOp.Exp, "Exp");

    public Tensor Log() => Unary(UnaryOp.Log, "Log");

    public Tensor Sqrt() => Unary(UnaryOp.Sqrt, "Sqrt");

    /// <summary>1 / sqrt(x).</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt, "Rsqrt");

    public Tensor Tanh() => Unary(UnaryOp.Tanh, "Tanh");

    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid, "Sigmoid");

    public Tensor Relu() => Unary(UnaryOp.Relu, "Relu");

    /// <summary>x * Phi(x); <see cref="GeluApproximation.Tanh"/> for GPT-2's tanh approximation.</summary>
    public Tensor Gelu(GeluApproximation approximate = GeluApproximation.None) =>
        approximate == GeluApproximation.Tanh ? Unary(UnaryOp.GeluTanh, "Gelu") : Unary(UnaryOp.Gelu, "Gelu");

    public Tensor Abs() => Unary(UnaryOp.Abs, "Abs");

    public Tensor Square() => Unary(UnaryOp.Square, "Square");

    public Tensor Sin() => Unary(UnaryOp.Sin, "Sin");

    public Tensor Cos() => Unary(UnaryOp.Cos, "Cos");

    /// <summary>1 / x.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal, "Reciprocal");

    /// <summary>log(sigmoid(x)), computed without overflow (DPO's loss).</summary>
    public Tensor LogSigmoid() => Unary(UnaryOp.LogSigmoid, "LogSigmoid");

    /// <summary>log(1 + exp(x)), computed without overflow.</summary>
    public Tensor Softplus() => Unary(UnaryOp.Softplus, "Softplus");

    /// <summary>x * sigmoid(x) (SiLU / swish).</summary>
    public Tensor Silu() => Unary(UnaryOp.Silu, "Silu");

    /// <summary>x raised to a constant power (x*x for 2, exactly).</summary>
    public Tensor Pow(float exponent) => Unary(UnaryOp.Pow, "Pow", exponent);

    /// <summary>Limits values to [min, max]; either bound may be null. The gradient passes inside the bounds.</summary>
    public Tensor Clamp(float? min = null, float? max = null)
    {
        if (min is null && max is null) throw new TensorShapeException("Clamp: at least one of min or max must be given");
        return Unary(UnaryOp.Clamp, "Clamp", min ?? float.NaN, max ?? float.NaN);
    }

    Tensor Unary(UnaryOp op, string name, float alpha = 0f, float beta = 0f)
    {
        var x = FloatInput(name);
        var y = x.NewEmpty(shape);
        var precision = AutocastPrecisionOf(op, x);
        if (precision == DType.Float32) x.Backend.Unary(op, x, y, alpha, beta);
        else
        {
            x.Backend.UnaryRounded(op, x, y, alpha, beta, precision);
            y.Storage.ValuesRoundedTo = precision;
        }
        if (Autograd.DetectNonFinite) NonFinite.Check(name, "forward", y, x);
        if (Autograd.Needs(x)) y.SetGradFn(new UnaryBackward(name + "Backward", op, x, y, alpha, beta, precision));
        return y;
    }

    /// <summary>
    /// The precision an op runs in under autocast: an activation of a 16-bit result (its storage marked by
    /// <see cref="Backends.Storage.ValuesRoundedTo"/> with the scope's precision) in that precision, anything else in float32.
    /// </summary>
    static DType AutocastPrecisionOf(UnaryOp op, Tensor x)
    {
        var precision = Autocast.CurrentPrecision;
        var activation = op is UnaryOp.Gelu or UnaryOp.GeluTanh or UnaryOp.Relu or UnaryOp.Silu or UnaryOp.Tanh or UnaryOp.Sigmoid;
        return precision != DType.Float32 && activation && x.Storage.ValuesRoundedTo == precision ? precision : DType.Float32;
    }

    sealed class UnaryBackward(string name, UnaryOp op, Tensor x, Tensor y, float alpha, float beta, DType precision) : Node(name, x)
    {
        Tensor? x = x, y = y;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var input = Saved(x);
            var g = gy.NewEmpty(input.shape);
            if (precision == DType.Float32) gy.Backend.UnaryBackward(op, input, Saved(y), gy, g, alpha, beta);
            else
            {
                gy.Backend.UnaryBackwardRounded(op, input, Saved(y), gy, g, alpha, beta, precision);
                g.Storage.ValuesRoundedTo = precision;
            }
            gx[0] = g;
        }

        protected override void ReleaseSaved() => x = y = null;
    }
}
