namespace LlmCourse.Tensors;

/// <summary>
/// Layer norm and RMS norm over the trailing <c>normalizedShape</c> dims: fused kernels (mean and
/// 1/std saved per row; backward gives input, weight and bias gradients in one pass). Reference
/// composites: <see cref="Composite.LayerNorm"/>, <see cref="Composite.RmsNorm"/>.
/// </summary>
public static partial class Functional
{
    /// <summary>(x - mean) / sqrt(var + eps) * weight + bias, with the biased variance (PyTorch).</summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f) =>
        Norm(x, normalizedShape, weight, bias, eps, rms: false, "LayerNorm");

    /// <summary>x / sqrt(mean(x^2) + eps) * weight.</summary>
    public static Tensor RmsNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, float eps = 1e-6f) =>
        Norm(x, normalizedShape, weight, null, eps, rms: true, "RmsNorm");

    static Tensor Norm(Tensor x, int[] normalizedShape, Tensor? weight, Tensor? bias, float eps, bool rms, string op)
    {
        var k = normalizedShape.Length;
        if (k == 0 || k > x.Rank || !Shapes.Equal(x.shape[^k..], normalizedShape))
            throw new TensorShapeException(
                $"{op}: input {Shapes.Format(x.shape)} does not end with normalized shape {Shapes.Format(normalizedShape)}");
        if (weight is not null && !Shapes.Equal(weight.shape, normalizedShape))
            throw new TensorShapeException($"{op}: weight {Shapes.Format(weight.shape)} must have the normalized shape {Shapes.Format(normalizedShape)}");
        if (bias is not null && !Shapes.Equal(bias.shape, normalizedShape))
            throw new TensorShapeException($"{op}: bias {Shapes.Format(bias.shape)} must have the normalized shape {Shapes.Format(normalizedShape)}");
        if (weight is not null) Tensor.SameDevice(op, x, weight);
        if (bias is not null) Tensor.SameDevice(op, x, bias);
        var n = (int)Shapes.Count(normalizedShape);
        var rows = n == 0 ? 0 : (int)(x.Count / n);
        var input = x.FloatInput(op).ReshapeData([rows, n]).ContiguousData();
        var w = weight?.FloatInput(op).ContiguousData();
        var b = bias?.FloatInput(op).ContiguousData();
        var y = input.NewEmpty([rows, n]);
        var mean = Tensor.Allocate([rows], DType.Float32, x.Device);
        var rstd = Tensor.Allocate([rows], DType.Float32, x.Device);
        x.Backend.LayerNorm(input, w, b, eps, rms, y, mean, rstd);
        var result = y.AsView(x.shape, Shapes.ContiguousStrides(x.shape), y.offset);
        if (Autograd.DetectNonFinite) NonFinite.Check(op, "forward", result, x, weight, bias);
        if (Autograd.Needs(x, weight, bias)) result.SetGradFn(new NormBackward(op + "Backward", x, weight, bias, input, w, mean, rstd, rms));
        return result;
    }

    sealed class NormBackward(string name, Tensor x, Tensor? weight, Tensor? bias, Tensor input, Tensor? w, Tensor mean, Tensor rstd, bool rms)
        : Node(name, x, weight, bias)
    {
        Tensor? input = input, w = w, mean = mean, rstd = rstd;
        readonly bool hasWeight = weight is not null;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var xs = Saved(input);
            var gInput = xs.NewEmpty(xs.shape);
            var gWeight = NeedsGrad(1) ? Saved(w).NewEmpty(Saved(w).shape) : null;
            var gBias = NeedsGrad(2) ? gy.NewEmpty(Next[2].Shape) : null;
            gy.Backend.LayerNormBackward(xs, hasWeight ? Saved(w) : null, Saved(mean), Saved(rstd), gy.ContiguousData(), rms, gInput, gWeight, gBias);
            gx[0] = gInput.AsView(Next[0].Shape, Shapes.ContiguousStrides(Next[0].Shape), gInput.offset);
            gx[1] = gWeight;
            gx[2] = gBias;
        }

        protected override void ReleaseSaved() => input = w = mean = rstd = null;
    }
}
