namespace LlmCourse.Tensors;

/// <summary>
/// Scaled dot-product attention, PyTorch's <c>F.scaled_dot_product_attention</c>. Letters: B batch,
/// H heads, T query positions, S key positions, D head size; q [B, H, T, D], k and v [B, H, S, D]
/// (any leading batch dims work). Written as a composite of matmul, softmax and masked fill.
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
        int t = q.shape[^2], s = k.shape[^2];
        var scale = 1f / MathF.Sqrt(q.shape[^1]);
        var scores = q.MatMul(k.MT) * scale;                        // [..., T, S]
        if (isCausal) mask = Tensor.CausalMask(t, s, lower: true, 0, q.Device);
        if (mask is not null) scores = scores.MaskedFill(mask.Eq(0f), float.NegativeInfinity);
        var weights = scores.Softmax(-1);
        if (dropoutP > 0f) weights = Dropout(weights, dropoutP, training: true, generator);
        return weights.MatMul(v);                                   // [..., T, D]
    }
}
