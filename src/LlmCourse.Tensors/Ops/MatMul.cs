namespace LlmCourse.Tensors;

/// <summary>
/// Matrix products with PyTorch's rules: 1-D operands become a row (left) or a column (right) and
/// that dim is dropped from the result; batch dims broadcast. Letters: a is [..., m, k], b is
/// [..., k, n]. Backward is two more products, da = dc @ b^T and db = a^T @ dc, passed to the GEMM as
/// transposed views (no copies), with broadcast batch dims summed back.
/// </summary>
public sealed partial class Tensor
{
    public Tensor MatMul(Tensor other) => MatMul(this, other);

    public static Tensor MatMul(Tensor a, Tensor b) => MatMul(a, b, Autocast.CurrentPrecision);

    /// <summary>The product with operands and result rounded to <paramref name="precision"/> (autocast; Float32: exact float32).</summary>
    internal static Tensor MatMul(Tensor a, Tensor b, DType precision)
    {
        SameDevice("MatMul", a, b);
        if (a.Rank == 0 || b.Rank == 0)
            throw new TensorShapeException($"MatMul: both arguments need at least 1 dim, got {Shapes.Format(a.shape)} @ {Shapes.Format(b.shape)}");
        a.RequireDType(DType.Float32, "MatMul", "left operand");
        b.RequireDType(DType.Float32, "MatMul", "right operand");
        var left = a.Rank == 1 ? a.Unsqueeze(0) : a;
        var right = b.Rank == 1 ? b.Unsqueeze(1) : b;
        int m = left.shape[^2], k = left.shape[^1], k2 = right.shape[^2], n = right.shape[^1];
        if (k != k2)
            throw new TensorShapeException($"MatMul: {Shapes.Format(a.shape)} @ {Shapes.Format(b.shape)}: inner dims {k} != {k2}");
        int[] batch;
        try
        {
            batch = Shapes.Broadcast(left.shape[..^2], right.shape[..^2], "MatMul");
        }
        catch (TensorShapeException)
        {
            throw new TensorShapeException($"MatMul: {Shapes.Format(a.shape)} @ {Shapes.Format(b.shape)}: batch dims cannot broadcast");
        }
        var c = Allocate([.. batch, m, n], DType.Float32, a.Device);
        // Autocast rounds each operand once, before broadcasting (a shared weight is not copied per batch).
        var (leftOperand, rightOperand) = (a.Backend.MatMulOperand(left, precision), a.Backend.MatMulOperand(right, precision));
        a.Backend.MatMulRounded(leftOperand.ExpandTo([.. batch, m, k], "MatMul"), rightOperand.ExpandTo([.. batch, k, n], "MatMul"), c, precision);
        c.Storage.ValuesRoundedTo = precision;   // a 16-bit result (Float32 outside autocast: no promise)
        if (Autograd.DetectNonFinite) NonFinite.Check("MatMul", "forward", c, a, b);
        if (Autograd.Needs(left, right)) c.SetGradFn(new MatMulBackward(left, right, precision));
        if (a.Rank == 1) c = c.Squeeze(-2);
        if (b.Rank == 1) c = c.Squeeze(-1);
        return c;
    }

    /// <summary>Under autocast the two backward products run at the forward's precision, as PyTorch's do.</summary>
    sealed class MatMulBackward(Tensor a, Tensor b, DType precision) : Node("MatMulBackward", a, b)
    {
        Tensor? a = a, b = b;

        public override void Backward(Tensor gc, Tensor?[] gx)
        {
            var left = Saved(a);
            var right = Saved(b);
            if (NeedsGrad(0)) gx[0] = MatMul(gc, right.MT, precision).SumTo(left.shape);
            if (NeedsGrad(1)) gx[1] = WeightGradient(left, gc, right.shape, precision);
        }

        /// <summary>
        /// a^T @ dc summed over broadcast batch dims. When b is one matrix shared by a batch of a's
        /// (x @ W), the batch is folded into the rows: one [k, B*m] @ [B*m, n] product, no batched sum.
        /// </summary>
        static Tensor WeightGradient(Tensor left, Tensor gc, int[] rightShape, DType precision)
        {
            if (rightShape.Length == 2 && left.Rank > 2)
            {
                var rows = left.Reshape(-1, left.shape[^1]);
                var grads = gc.Reshape(-1, gc.shape[^1]);
                return MatMul(rows.T, grads, precision);
            }
            return MatMul(left.MT, gc, precision).SumTo(rightShape);
        }

        protected override void ReleaseSaved() => a = b = null;
    }
}
