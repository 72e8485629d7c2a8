namespace LlmCourse.Tensors;

/// <summary>
/// The readable references the fused kernels are tested against (a plain version kept beside every fast one): each written only in
/// terms of primitives, so its gradient comes from theirs. Slower and allocation-heavy; use them to
/// teach and to test, use <see cref="Functional"/> to train.
/// </summary>
public static class Composite
{
    /// <summary>x @ weight^T + bias as a matmul of a transposed view and a broadcast add.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        var y = x.MatMul(weight.T);
        return bias is null ? y : y + bias;
    }

    public static Tensor Softmax(Tensor x, int dim)
    {
        var e = (x - x.Max(dim, keepDim: true).Values.Detach()).Exp();
        return e / e.Sum(dim, keepDim: true);
    }

    public static Tensor LogSoftmax(Tensor x, int dim)
    {
        var shifted = x - x.Max(dim, keepDim: true).Values.Detach();
        return shifted - shifted.Exp().Sum(dim, keepDim: true).Log();
    }

    /// <summary>-log_softmax at the target, smoothed, masked where the target is ignored, mean over the rest.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex = -100, Reduction reduction = Reduction.Mean,
        float labelSmoothing = 0f)
    {
        var logProbs = LogSoftmax(logits, -1);
        var nll = Functional.NllLoss(logProbs, targets, ignoreIndex, Reduction.None);
        if (labelSmoothing == 0f) return ReduceMasked(nll, targets, ignoreIndex, reduction);
        var keep = targets.Ne(ignoreIndex);
        var smooth = -logProbs.Mean(-1) * keep;
        return ReduceMasked(nll * (1f - labelSmoothing) + smooth * labelSmoothing, targets, ignoreIndex, reduction);
    }

    static Tensor ReduceMasked(Tensor losses, Tensor targets, int ignoreIndex, Reduction reduction) => reduction switch
    {
        Reduction.None => losses,
        Reduction.Sum => losses.Sum(),
        _ => losses.Sum() / targets.Ne(ignoreIndex).Sum(),
    };

    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        var dims = Enumerable.Range(x.Rank - normalizedShape.Length, normalizedShape.Length).ToArray();
        var mean = x.Mean(dims, keepDim: true);
        var centered = x - mean;
        var variance = centered.Square().Mean(dims, keepDim: true);
        var y = centered * (variance + eps).Rsqrt();
        if (weight is not null) y *= weight;
        if (bias is not null) y += bias;
        return y;
    }

    public static Tensor RmsNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, float eps = 1e-6f)
    {
        var dims = Enumerable.Range(x.Rank - normalizedShape.Length, normalizedShape.Length).ToArray();
        var y = x * (x.Square().Mean(dims, keepDim: true) + eps).Rsqrt();
        return weight is null ? y : y * weight;
    }

    /// <summary>GELU from tanh (GPT-2's approximation) or, for the exact form, from the normal CDF written with tanh-free primitives.</summary>
    public static Tensor Gelu(Tensor x, GeluApproximation approximate = GeluApproximation.None)
    {
        if (approximate == GeluApproximation.Tanh)
        {
            var inner = (x + x.Pow(3f) * 0.044715f) * MathF.Sqrt(2f / MathF.PI);
            return x * 0.5f * (inner.Tanh() + 1f);
        }
        return x * NormalCdf(x);
    }

    /// <summary>
    /// Phi(x) = 0.5 erfc(-x / sqrt 2), with Numerical Recipes' Chebyshev erfc (relative error below
    /// 1.2e-7) written as tensor maths; evaluated at -|x| and reflected, so no digits cancel.
    /// </summary>
    static Tensor NormalCdf(Tensor x)
    {
        var z = x.Abs() * (1f / MathF.Sqrt(2f));
        var t = (z * 0.5f + 1f).Reciprocal();
        Tensor poly = Tensor.FullLike(t, 0.17087277f);
        foreach (var c in new[] { -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f })
            poly = poly * t + c;
        var halfErfc = t * (poly - z.Square()).Exp() * 0.5f; // Phi(-|x|)
        return Tensor.Where(x.Gt(0f), 1f - halfErfc, halfErfc);
    }

    /// <summary>
    /// softmax(q k^T / sqrt(D), masked) v with every intermediate stored: [..., T, S] scores, mask,
    /// probabilities. <paramref name="mask"/>: nonzero may attend (PyTorch's boolean mask).
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, bool isCausal = false,
        float dropoutP = 0f, Generator? generator = null)
    {
        int t = q.Size(-2), s = k.Size(-2);
        var scores = q.MatMul(k.MT) * (1f / MathF.Sqrt(q.Size(-1)));   // [..., T, S]
        if (isCausal) mask = Tensor.CausalMask(t, s, lower: true, 0, q.Device);
        if (mask is not null) scores = scores.MaskedFill(mask.Eq(0f), float.NegativeInfinity);
        var weights = scores.Softmax(-1);
        if (dropoutP > 0f) weights = Functional.Dropout(weights, dropoutP, training: true, generator);
        return weights.MatMul(v);                                        // [..., T, Dv]
    }
}
