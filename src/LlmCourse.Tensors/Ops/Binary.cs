using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>
/// Element-wise functions of two tensors, with NumPy/PyTorch broadcasting. The gradient of each
/// input is computed at the output's shape and summed back to the input's shape (<see cref="SumTo"/>).
/// Int32 operands are promoted to Float32.
/// </summary>
public sealed partial class Tensor
{
    public Tensor Add(Tensor other) => Binary(BinaryOp.Add, other, "Add");

    public Tensor Sub(Tensor other) => Binary(BinaryOp.Sub, other, "Sub");

    public Tensor Mul(Tensor other) => Binary(BinaryOp.Mul, other, "Mul");

    public Tensor Div(Tensor other) => Binary(BinaryOp.Div, other, "Div");

    /// <summary>Element-wise power with a tensor exponent.</summary>
    public Tensor Pow(Tensor exponent) => Binary(BinaryOp.Pow, exponent, "Pow");

    public Tensor Add(float other) => ScalarOp(BinaryOp.Add, other, false, "Add");

    public Tensor Sub(float other) => ScalarOp(BinaryOp.Sub, other, false, "Sub");

    public Tensor Mul(float other) => ScalarOp(BinaryOp.Mul, other, false, "Mul");

    public Tensor Div(float other) => ScalarOp(BinaryOp.Div, other, false, "Div");

    /// <summary>Element-wise max; ties send half the gradient to each side (PyTorch).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => a.Binary(BinaryOp.Maximum, b, "Maximum");

    public static Tensor Minimum(Tensor a, Tensor b) => a.Binary(BinaryOp.Minimum, b, "Minimum");

    public static Tensor operator +(Tensor a, Tensor b) => a.Binary(BinaryOp.Add, b, "Add");
    public static Tensor operator -(Tensor a, Tensor b) => a.Binary(BinaryOp.Sub, b, "Sub");
    public static Tensor operator *(Tensor a, Tensor b) => a.Binary(BinaryOp.Mul, b, "Mul");
    public static Tensor operator /(Tensor a, Tensor b) => a.Binary(BinaryOp.Div, b, "Div");
    public static Tensor operator +(Tensor a, float b) => a.ScalarOp(BinaryOp.Add, b, false, "Add");
    public static Tensor operator -(Tensor a, float b) => a.ScalarOp(BinaryOp.Sub, b, false, "Sub");
    public static Tensor operator *(Tensor a, float b) => a.ScalarOp(BinaryOp.Mul, b, false, "Mul");
    public static Tensor operator /(Tensor a, float b) => a.ScalarOp(BinaryOp.Div, b, false, "Div");
    public static Tensor operator +(float a, Tensor b) => b.ScalarOp(BinaryOp.Add, a, true, "Add");
    public static Tensor operator -(float a, Tensor b) => b.ScalarOp(BinaryOp.Sub, a, true, "Sub");
    public static Tensor operator *(float a, Tensor b) => b.ScalarOp(BinaryOp.Mul, a, true, "Mul");
    public static Tensor operator /(float a, Tensor b) => b.ScalarOp(BinaryOp.Div, a, true, "Div");
    public static Tensor operator -(Tensor a) => a.Neg();

    Tensor Binary(BinaryOp op, Tensor other, string name)
    {
        SameDevice(name, this, other);
        var a = FloatInput(name);
        var b = other.FloatInput(name);
        var outShape = Shapes.Broadcast(a.shape, b.shape, name);
        var y = a.NewEmpty(outShape);
        a.Backend.Binary(op, a.ExpandTo(outShape, name), b.ExpandTo(outShape, name), y);
        if (Autograd.DetectNonFinite) NonFinite.Check(name, "forward", y, a, b);
        if (Autograd.Needs(a, b)) y.SetGradFn(new BinaryBackward(name + "Backward", op, a, b, y));
        return y;
    }

    sealed class BinaryBackward(string name, BinaryOp op, Tensor a, Tensor b, Tensor y) : Node(name, a, b)
    {
        Tensor? a = a, b = b, y = y;
        readonly int[] shapeA = a.shape, shapeB = b.shape;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            Tensor? ga = null, gb = null;
            switch (op)
            {
                case BinaryOp.Add:
                    ga = gy;
                    gb = gy;
                    break;
                case BinaryOp.Sub:
                    ga = gy;
                    if (NeedsGrad(1)) gb = -gy;
                    break;
                case BinaryOp.Mul:
                    if (NeedsGrad(0)) ga = gy * Saved(b);
                    if (NeedsGrad(1)) gb = gy * Saved(a);
                    break;
                case BinaryOp.Div: // d(a/b)/db = -a/b^2 = -y/b
                    if (NeedsGrad(0)) ga = gy / Saved(b);
                    if (NeedsGrad(1)) gb = -gy * Saved(y) / Saved(b);
                    break;
                case BinaryOp.Pow:
                    if (NeedsGrad(0)) ga = gy * Saved(b) * Saved(a).Pow(Saved(b) - 1f);
                    if (NeedsGrad(1))
                    {
                        // y log a, defined as 0 where a == 0 and b >= 0 (PyTorch's pow_backward_exponent)
                        var zeroBase = Saved(a).Eq(0f) * Saved(b).Ge(0f);
                        gb = gy * Where(zeroBase, Scalar(0f, gy.Device), Saved(y) * Saved(a).Log());
                    }
                    break;
                case BinaryOp.Maximum:
                case BinaryOp.Minimum:
                {
                    // where(a == b, g/2, g), zeroed on the losing side
                    var tie = Saved(a).Eq(Saved(b));
                    var shared = Where(tie, gy * 0.5f, gy);
                    var aWins = op == BinaryOp.Maximum ? Saved(a).Gt(Saved(b)) : Saved(a).Lt(Saved(b));
                    var bWins = op == BinaryOp.Maximum ? Saved(a).Lt(Saved(b)) : Saved(a).Gt(Saved(b));
                    if (NeedsGrad(0)) ga = shared.MaskedFill(bWins, 0f);
                    if (NeedsGrad(1)) gb = shared.MaskedFill(aWins, 0f);
                    break;
                }
            }
            if (NeedsGrad(0)) gx[0] = ga!.SumTo(shapeA);
            if (NeedsGrad(1)) gx[1] = gb!.SumTo(shapeB);
        }

        protected override void ReleaseSaved() => a = b = y = null;
    }

    Tensor ScalarOp(BinaryOp op, float value, bool scalarFirst, string name)
    {
        var x = FloatInput(name);
        var y = x.NewEmpty(shape);
        x.Backend.BinaryScalar(op, x, value, scalarFirst, y);
        if (Autograd.DetectNonFinite) NonFinite.Check(name, "forward", y, x);
        if (Autograd.Needs(x)) y.SetGradFn(new ScalarBackward(name + "Backward", op, value, scalarFirst, x, y));
        return y;
    }

    sealed class ScalarBackward(string name, BinaryOp op, float value, bool scalarFirst, Tensor x, Tensor y) : Node(name, x)
    {
        Tensor? x = x, y = y;

        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = op switch
        {
            BinaryOp.Add => gy,
            BinaryOp.Sub => scalarFirst ? -gy : gy,
            BinaryOp.Mul => gy * value,
            BinaryOp.Div => scalarFirst ? -gy * Saved(y) / Saved(x) : gy / value, // d(s/x)/dx = -s/x^2 = -y/x
            BinaryOp.Pow => scalarFirst ? gy * Saved(y) * MathF.Log(value) : gy * value * Saved(x).Pow(value - 1f),
            _ => throw new NotSupportedException($"{Name}: no gradient rule for {op} with a scalar"),
        };

        protected override void ReleaseSaved() => x = y = null;
    }

    // ---- comparisons and selection -------------------------------------------------------------

    public Tensor Eq(Tensor other) => Compare(CompareOp.Eq, other, "Eq");
    public Tensor Ne(Tensor other) => Compare(CompareOp.Ne, other, "Ne");
    public Tensor Gt(Tensor other) => Compare(CompareOp.Gt, other, "Gt");
    public Tensor Ge(Tensor other) => Compare(CompareOp.Ge, other, "Ge");
    public Tensor Lt(Tensor other) => Compare(CompareOp.Lt, other, "Lt");
    public Tensor Le(Tensor other) => Compare(CompareOp.Le, other, "Le");
    public Tensor Eq(float other) => Compare(CompareOp.Eq, Scalar(other, Device), "Eq");
    public Tensor Ne(float other) => Compare(CompareOp.Ne, Scalar(other, Device), "Ne");
    public Tensor Gt(float other) => Compare(CompareOp.Gt, Scalar(other, Device), "Gt");
    public Tensor Ge(float other) => Compare(CompareOp.Ge, Scalar(other, Device), "Ge");
    public Tensor Lt(float other) => Compare(CompareOp.Lt, Scalar(other, Device), "Lt");
    public Tensor Le(float other) => Compare(CompareOp.Le, Scalar(other, Device), "Le");

    /// <summary>1 where the comparison holds, else 0, as Float32 (a mask: nonzero is true). Never differentiable.</summary>
    Tensor Compare(CompareOp op, Tensor other, string name)
    {
        SameDevice(name, this, other);
        var a = AsFloat();
        var b = other.AsFloat();
        var outShape = Shapes.Broadcast(a.shape, b.shape, name);
        var y = a.NewEmpty(outShape);
        a.Backend.Compare(op, a.ExpandTo(outShape, name), b.ExpandTo(outShape, name), y);
        return y;
    }

    /// <summary>Elements of <paramref name="a"/> where <paramref name="condition"/> is nonzero, else of <paramref name="b"/> (all three broadcast).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        SameDevice("Where", condition, a);
        SameDevice("Where", a, b);
        var c = condition.AsFloat();
        var fa = a.FloatInput("Where");
        var fb = b.FloatInput("Where");
        var outShape = Shapes.Broadcast(c.shape, fa.shape, fb.shape, "Where");
        var y = fa.NewEmpty(outShape);
        fa.Backend.Where(c.ExpandTo(outShape, "Where"), fa.ExpandTo(outShape, "Where"), fb.ExpandTo(outShape, "Where"), y);
        if (Autograd.DetectNonFinite) NonFinite.Check("Where", "forward", y, fa, fb);
        if (Autograd.Needs(fa, fb)) y.SetGradFn(new WhereBackward(c, fa, fb));
        return y;
    }

    public static Tensor Where(Tensor condition, Tensor a, float b) => Where(condition, a, Scalar(b, a.Device));

    public static Tensor Where(Tensor condition, float a, Tensor b) => Where(condition, Scalar(a, b.Device), b);

    sealed class WhereBackward(Tensor condition, Tensor a, Tensor b) : Node("WhereBackward", a, b)
    {
        Tensor? condition = condition;
        readonly int[] shapeA = a.shape, shapeB = b.shape;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var zero = Scalar(0f, gy.Device);
            if (NeedsGrad(0)) gx[0] = Where(Saved(condition), gy, zero).SumTo(shapeA);
            if (NeedsGrad(1)) gx[1] = Where(Saved(condition), zero, gy).SumTo(shapeB);
        }

        protected override void ReleaseSaved() => condition = null;
    }

    /// <summary>
    /// <paramref name="value"/> where <paramref name="mask"/> is nonzero (the mask broadcasts to this
    /// tensor's shape), this tensor elsewhere; the gradient is zero at the filled positions.
    /// </summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        SameDevice("MaskedFill", this, mask);
        var outShape = Shapes.Broadcast(shape, mask.shape, "MaskedFill");
        if (!Shapes.Equal(outShape, shape))
            throw new TensorShapeException($"MaskedFill: mask of shape {Shapes.Format(mask.shape)} does not broadcast to the tensor's shape {Shapes.Format(shape)}");
        var x = FloatInput("MaskedFill");
        var m = mask.AsFloat();
        var y = x.NewEmpty(shape);
        x.Backend.Where(m.ExpandTo(shape, "MaskedFill"), Scalar(value, Device).ExpandTo(shape, "MaskedFill"), x, y);
        if (Autograd.DetectNonFinite) NonFinite.Check("MaskedFill", "forward", y, x, allowInfinity: float.IsInfinity(value));
        if (Autograd.Needs(x)) y.SetGradFn(new MaskedFillBackward(x, m));
        return y;
    }

    sealed class MaskedFillBackward(Tensor x, Tensor mask) : Node("MaskedFillBackward", x)
    {
        Tensor? mask = mask;

        public override void Backward(Tensor gy, Tensor?[] gx) => gx[0] = gy.MaskedFill(Saved(mask), 0f);

        protected override void ReleaseSaved() => mask = null;
    }
}
