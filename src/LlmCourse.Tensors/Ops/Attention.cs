namespace LlmCourse.Tensors;

/// <summary>
/// Scaled dot-product attention, PyTorch's <c>F.scaled_dot_product_attention</c>. Letters: B batch,
/// H heads, T query positions, S key positions, D head size; q [B, H, T, D], k and v [B, H, S, D]
/// (any leading batch dims). Without an explicit mask it runs the fused kernel (scores never
/// stored; backward recomputes them, and redraws the dropout mask from a saved seed; the output and
/// the gradients take the memory layout of q, k and v, see <see cref="AllocateInLayoutOf"/>); with a mask,
/// and as the reference it is tested against, the composite <see cref="Composite.ScaledDotProductAttention"/>.
/// </summary>
public static partial class Functional
{
    /// <summary>
    /// softmax(q k^T / sqrt(D) + mask) v. <paramref name="mask"/> is boolean-like as in PyTorch: nonzero
    /// means "may attend", zero is masked out; it broadcasts to [..., T, S]. <paramref name="isCausal"/>
    /// masks key j for query i when j &gt; i (top-left aligned, PyTorch's rule; for one new query over a
    /// KV cache pass isCausal: false). Dropout applies to the attention weights.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, bool isCausal = false,
        float dropoutP = 0f, Generator? generator = null)
    {
        const string op = "ScaledDotProductAttention";
        if (q.Rank < 2 || k.Rank < 2 || v.Rank < 2)
            throw new TensorShapeException($"{op}: q, k, v need at least 2 dims, got {Shapes.Format(q.shape)}, {Shapes.Format(k.shape)}, {Shapes.Format(v.shape)}");
        if (q.shape[^1] != k.shape[^1])
            throw new TensorShapeException($"{op}: q {Shapes.Format(q.shape)} and k {Shapes.Format(k.shape)} must have the same head size (last dim)");
        if (k.shape[^2] != v.shape[^2])
            throw new TensorShapeException($"{op}: k {Shapes.Format(k.shape)} and v {Shapes.Format(v.shape)} must have the same number of keys (dim -2)");
        if (mask is not null && isCausal)
            throw new TensorShapeException($"{op}: give either a mask or isCausal, not both (PyTorch's rule)");
        q.FloatInput(op);
        k.FloatInput(op);
        v.FloatInput(op);
        Tensor.SameDevice(op, q, k);
        Tensor.SameDevice(op, k, v);
        if (dropoutP is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(dropoutP), dropoutP, $"{op}: dropout probability must be in [0, 1)");
        if (mask is null && FusedAttentionApplies(q, k, v))
        {
            var seed = dropoutP > 0f ? (generator ?? Generator.Default).NextUInt64() : 0UL;
            return FusedAttention(q, k, v, isCausal, 1f / MathF.Sqrt(q.shape[^1]), dropoutP, seed);
        }
        return Composite.ScaledDotProductAttention(q, k, v, mask, isCausal, dropoutP, generator);
    }

    static bool FusedAttentionApplies(Tensor q, Tensor k, Tensor v) =>
        q.Rank == k.Rank && k.Rank == v.Rank &&
        Shapes.Equal(q.shape.AsSpan(0, q.Rank - 2), k.shape.AsSpan(0, k.Rank - 2)) &&
        Shapes.Equal(k.shape.AsSpan(0, k.Rank - 2), v.shape.AsSpan(0, v.Rank - 2)) &&
        q.Count > 0 && k.Count > 0 && v.Count > 0 &&
        Math.Max(q.shape[^1], v.shape[^1]) <= q.Backend.FusedAttentionMaxHeadSize;   // CUDA: 128; larger heads take the composite

    /// <summary>The kernels take any batch strides but need each matrix's rows contiguous and apart.</summary>
    static Tensor RowsContiguous(Tensor t) =>
        t.strides[^1] == 1 && (t.shape[^2] == 1 || t.strides[^2] >= t.shape[^1]) ? t : t.ContiguousData();

    /// <summary>
    /// A new [..., H, T, D] tensor laid out as <paramref name="like"/> is: when like's heads sit inside
    /// each time step (the (B, T, H, D) memory of <c>x.View(B, T, H, D).Transpose(1, 2)</c>), the new
    /// one is a (B, T, H, D) buffer seen through the same transpose, so the model's
    /// <c>y.Transpose(1, 2).Contiguous().View(B, T, C)</c> copies nothing, and neither do the gradients
    /// on their way back to the projection that made q, k and v. Otherwise contiguous.
    /// </summary>
    static Tensor AllocateInLayoutOf(Tensor like, int[] shape)
    {
        var r = shape.Length;
        if (r < 3 || like.shape[^3] == 1 || like.shape[^2] == 1 || like.strides[^3] >= like.strides[^2])
            return Tensor.Allocate(shape, DType.Float32, like.Device);
        int[] timeMajor = [.. shape[..^3], shape[^2], shape[^3], shape[^1]];
        var buffer = Tensor.Allocate(timeMajor, DType.Float32, like.Device);
        var strides = Shapes.ContiguousStrides(timeMajor);
        (strides[r - 3], strides[r - 2]) = (strides[r - 2], strides[r - 3]);
        return buffer.AsView(shape, strides, buffer.offset);
    }

    static Tensor FusedAttention(Tensor q, Tensor k, Tensor v, bool causal, float scale, float dropoutP, ulong dropoutSeed)
    {
        // Autocast: q, k, v rounded to bf16/fp16, the output rounded too; the softmax inside stays float32,
        // as in PyTorch's bf16 flash attention. Rounded copies and a rounding pass, unless the backend rounds
        // as it reads and writes (CUDA's tensor-core kernels): then q, k, v go in as they are, in the model's
        // time-major layout, so neither the copies nor a transpose of the output (see AllocateInLayoutOf) are made.
        var precision = Autocast.CurrentPrecision;
        var rounded = precision == DType.Float32   // nothing to round
                      || q.Backend.AttentionRoundsItself(precision, q.shape[^1], v.shape[^1]);
        var (qs, ks, vs) = rounded
            ? (RowsContiguous(q), RowsContiguous(k), RowsContiguous(v))
            : (q.RoundedTo(precision), k.RoundedTo(precision), v.RoundedTo(precision));
        var output = AllocateInLayoutOf(qs, [.. q.shape[..^1], v.shape[^1]]);
        var logSumExp = Tensor.Allocate(q.shape[..^1], DType.Float32, q.Device);
        q.Backend.Attention(qs, ks, vs, causal, scale, dropoutP, dropoutSeed, precision, output, logSumExp);
        if (!rounded) output.RoundInPlace(precision);
        if (Autograd.DetectNonFinite) NonFinite.Check("ScaledDotProductAttention", "forward", output, q, k, v);
        if (Autograd.Needs(q, k, v))
            output.SetGradFn(new AttentionBackward(q, k, v, qs, ks, vs, output, logSumExp, causal, scale, dropoutP, dropoutSeed, precision, rounded));
        return output;
    }

    sealed class AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor qs, Tensor ks, Tensor vs, Tensor output, Tensor logSumExp,
        bool causal, float scale, float dropoutP, ulong dropoutSeed, DType precision, bool rounded)
        : Node("ScaledDotProductAttentionBackward", q, k, v)
    {
        Tensor? qs = qs, ks = ks, vs = vs, output = output, logSumExp = logSumExp;

        public override void Backward(Tensor gy, Tensor?[] gx)
        {
            var (q, k, v) = (Saved(qs), Saved(ks), Saved(vs));
            var gq = AllocateInLayoutOf(q, q.shape);
            var gk = AllocateInLayoutOf(k, k.shape);
            var gv = AllocateInLayoutOf(v, v.shape);
            var g = rounded ? RowsContiguous(gy) : gy.RoundedTo(precision);
            gy.Backend.AttentionBackward(q, k, v, Saved(output), Saved(logSumExp), g, causal, scale, dropoutP, dropoutSeed, precision, gq, gk, gv);
            if (!rounded)
            {
                gq.RoundInPlace(precision);
                gk.RoundInPlace(precision);
                gv.RoundInPlace(precision);
            }
            gx[0] = gq;
            gx[1] = gk;
            gx[2] = gv;
        }

        protected override void ReleaseSaved() => qs = ks = vs = output = logSumExp = null;
    }
}
