namespace LlmCourse.Tensors;

/// <summary>
/// The linear layer as one primitive: y = x W^T + b with W [out, in]. Letters: N rows (every leading
/// dim of x flattened), I in features, O out features. Forward writes b into y and lets the GEMM add
/// x W^T to it (beta = 1); backward runs two GEMMs straight into the gradients' layouts,
/// dX = dY W and dW = dY^T X, and sums dY's rows for db. The composite it replaces (a matmul with a
/// transposed view, then a broadcast add) is <see cref="Composite.Linear"/>.
/// </summary>
public static partial class Functional
{
    /// <summary><c>x @ weight.T + bias</c>, weight [out, in], x [..., in] → [..., out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2) throw new TensorShapeException($"Linear: weight must be 2-D [out, in], got {Shapes.Format(weight.shape)}");
        if (x.Rank == 0 || x.shape[^1] != weight.shape[1])
            throw new TensorShapeException($"Linear: input {Shapes.Format(x.shape)} does not match weight {Shapes.Format(weight.shape)}: last dim must be {weight.shape[1]}");
        if (bias is not null && (bias.Rank != 1 || bias.shape[0] != weight.shape[0]))
            throw new TensorShapeException($"Linear: bias {Shapes.Format(bias.shape)} does not match weight {Shapes.Format(weight.shape)}: expected [{weight.shape[0]}]");
        x.FloatInput("Linear");
        weight.FloatInput("Linear");
        bias?.FloatInput("Linear");
        Tensor.SameDevice("Linear", x, weight);
        if (bias is not null) Tensor.SameDevice("Linear", x, bias);
        int inFeatures = weight.shape[1], outFeatures = weight.shape[0];
        var rows = (int)(x.Count / Math.Max(inFeatures, 1));
        if (inFeatures == 0) rows = (int)Shapes.Count(x.shape.AsSpan(0, x.Rank - 1));
        // Under autocast x, W and b are rounded to bf16/fp16 first and y after (PyTorch's autocast linear); the rounded
        // operands (16-bit storage on a GPU) are what the backward products use too.
        var precision = Autocast.CurrentPrecision;
        var x2 = x.Backend.MatMulOperand(x.ReshapeData([rows, inFeatures]), precision);   // (N, I)
        var w = x.Backend.MatMulOperand(weight, precision);
        var y = Tensor.Allocate([rows, outFeatures], DType.Float32, x.Device);           // (N, O)
        if (bias is null) x.Backend.MatMulRounded(x2, w.MoveDimToEnd(0), y, precision);   // (N, I) @ (I, O), rounded
        else
        {
            x.Backend.Copy(bias.RoundedTo(precision).ExpandTo([rows, outFeatures], "Linear"), y);
            x.Backend.MatMul(x2, w.MoveDimToEnd(0), y, accumulate: true);
            y.RoundInPlace(precision);
        }
        y.Storage.ValuesRoundedTo = precision;   // a 16-bit result (Float32 outside autocast: no promise)
        var result = y.AsView([.. x.shape[..^1], outFeatures], Shapes.ContiguousStrides([.. x.shape[..^1], outFeatures]), y.offset);
        if (Autograd.DetectNonFinite) NonFinite.Check("Linear", "forward", result, x, weight, bias);
        if (Autograd.Needs(x, weight, bias)) result.SetGradFn(new LinearBackward(x, weight, bias, w, x2, precision));
        return result;
    }

    /// <summary>weight and x2 are the operands forward used (rounded under autocast); the products run at forward's precision.</summary>
    sealed class LinearBackward(Tensor x, Tensor weight, Tensor? bias, Tensor weightOperand, Tensor x2, DType precision)
        : Node("LinearBackward", x, weight, bias)
    {
        Tensor? x2 = x2, weight = weightOperand;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var w = Saved(weight);
            var input = Saved(x2);
            int rows = input.shape[0], outFeatures = w.shape[0];
            var gyRows = gy.ReshapeData([rows, outFeatures]);
            var g = gy.Backend.MatMulOperand(gyRows, precision);                          // (N, O), rounded once for both products
            if (NeedsGrad(0))
            {
                var dx = Tensor.Allocate(input.shape, DType.Float32, gy.Device);         // (N, I) = (N, O) @ (O, I)
                gy.Backend.MatMulRounded(g, w, dx, precision);
                gx[0] = dx.AsView(Next[0].Shape, Shapes.ContiguousStrides(Next[0].Shape), dx.offset);
            }
            if (NeedsGrad(1))
            {
                var dw = Tensor.Allocate(w.shape, DType.Float32, gy.Device);              // (O, I) = (O, N) @ (N, I)
                gy.Backend.MatMulRounded(g.MoveDimToEnd(0), input, dw, precision);
                gx[1] = dw;
            }
            if (NeedsGrad(2)) gx[2] = (g.DType == DType.Float32 ? g : gyRows.RoundedTo(precision)).Sum(0);   // (O)
        }

        protected override void ReleaseSaved() => x2 = weight = null;
    }
}
