namespace LlmCourse.Tensors.Tests.Ops;

using LlmCourse.Tensors.Tests.Core;
using F = LlmCourse.Tensors.Functional;

/// <summary>
/// Every fused kernel against the composite it replaces (the readable reference kept beside it): same values and same gradients.
/// Tolerances: forward 2e-6 (a few ulps of values near 1), gradients 2e-5.
/// </summary>
public sealed class FusedKernelTests
{
    static (float[] Value, float[] Grad) Run(Func<Tensor, Tensor> f, float[] x, int[] shape, float[] upstream)
    {
        var t = Tensor.FromArray(x, shape).WithGrad();
        var y = f(t);
        y.Backward(y.Rank == 0 ? Tensor.Scalar(upstream[0]) : Tensor.FromArray(upstream, y.Shape));
        return (y.ToArray(), t.Grad!.ToArray());
    }

    static void Same(Func<Tensor, Tensor> fused, Func<Tensor, Tensor> composite, int[] shape, int[] outShape, float scale = 3f)
    {
        var x = Check.Values((int)Shapes.Count(shape), 11, scale);
        var g = Check.Values((int)Shapes.Count(outShape), 12);
        var (fv, fg) = Run(fused, x, shape, g);
        var (cv, cg) = Run(composite, x, shape, g);
        Check.Close(cv, fv, 2e-6f * scale, "forward");
        Check.Close(cg, fg, 2e-5f * scale, "gradient");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void SoftmaxAndLogSoftmax(int dim)
    {
        Same(x => x.Softmax(dim), x => Composite.Softmax(x, dim), [4, 5, 6], [4, 5, 6]);
        Same(x => x.LogSoftmax(dim), x => Composite.LogSoftmax(x, dim), [4, 5, 6], [4, 5, 6]);
    }

    [Fact]
    public void SoftmaxOfLargeValuesAndMaskedRows()
    {
        var y = Tensor.FromArray([1000f, 1000f, float.NegativeInfinity]).Softmax(0).ToArray();
        Assert.Equal(new[] { 0.5f, 0.5f, 0f }, y);
        Assert.True(Tensor.FromArray([float.NegativeInfinity, float.NegativeInfinity]).Softmax(0).ToArray().All(float.IsNaN));
    }

    [Fact]
    public void LayerNormAndRmsNorm()
    {
        var w = Tensor.FromArray(Check.Values(8, 3));
        var b = Tensor.FromArray(Check.Values(8, 4));
        Same(x => F.LayerNorm(x, [8], w, b), x => Composite.LayerNorm(x, [8], w, b), [3, 5, 8], [3, 5, 8]);
        Same(x => F.LayerNorm(x, [5, 8]), x => Composite.LayerNorm(x, [5, 8]), [3, 5, 8], [3, 5, 8]);
        Same(x => F.RmsNorm(x, [8], w), x => Composite.RmsNorm(x, [8], w), [3, 5, 8], [3, 5, 8]);
    }

    [Fact]
    public void LayerNormWeightAndBiasGradientsMatchTheComposite()
    {
        var x = Tensor.FromArray(Check.Values(100 * 16, 5), 100, 16);
        var upstream = Tensor.FromArray(Check.Values(100 * 16, 6), 100, 16);
        (float[], float[]) Grads(Func<Tensor, Tensor, Tensor, Tensor> f)
        {
            var w = Tensor.FromArray(Check.Values(16, 7)).WithGrad();
            var b = Tensor.FromArray(Check.Values(16, 8)).WithGrad();
            (f(x, w, b) * upstream).Sum().Backward();
            return (w.Grad!.ToArray(), b.Grad!.ToArray());
        }
        var (fw, fb) = Grads((x, w, b) => F.LayerNorm(x, [16], w, b));
        var (cw, cb) = Grads((x, w, b) => Composite.LayerNorm(x, [16], w, b));
        Check.Close(cw, fw, 1e-4f, "weight gradient");
        Check.Close(cb, fb, 1e-4f, "bias gradient");
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void CrossEntropyWithIgnoredTargets(float smoothing)
    {
        var targets = Tensor.FromArray([2, -100, 0, 4, 1, -100], 2, 3);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            var upstream = new[] { 1.7f };
            var x = Check.Values(30, 21, 2f);
            var (fv, fg) = Run(l => F.CrossEntropy(l, targets, reduction: reduction, labelSmoothing: smoothing), x, [2, 3, 5], upstream);
            var (cv, cg) = Run(l => Composite.CrossEntropy(l, targets, reduction: reduction, labelSmoothing: smoothing), x, [2, 3, 5], upstream);
            Check.Close(cv, fv, 2e-6f, "loss");
            Check.Close(cg, fg, 2e-6f, "gradient");
            for (var c = 0; c < 5; c++)
            {
                Assert.Equal(0f, fg[5 + c]);   // ignored rows get no gradient
                Assert.Equal(0f, fg[25 + c]);
            }
        }
        var none = F.CrossEntropy(Tensor.FromArray(Check.Values(30, 21), 2, 3, 5), targets, reduction: Reduction.None);
        Check.Shape([2, 3], none);
        Assert.Equal(0f, none.ToArray()[1]);
    }

    [Fact]
    public void CrossEntropyOfUniformLogitsIsLogC()
    {
        var loss = F.CrossEntropy(Tensor.Zeros(4, 10), Tensor.FromArray([0, 3, 9, 5]));
        Assert.Equal(MathF.Log(10f), loss.Item(), 6);
        Assert.True(float.IsNaN(F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.FromArray([-100, -100])).Item()));
    }

    [Fact]
    public void AttentionWithCausalMaskAttendsOnlyToThePast()
    {
        var g = new Generator(3);
        var q = Tensor.Randn([1, 2, 4, 3], g);
        var k = Tensor.Randn([1, 2, 4, 3], g);
        var v = Tensor.Randn([1, 2, 4, 3], g);
        var y = F.ScaledDotProductAttention(q, k, v, isCausal: true);
        // The first query sees only the first key, so it returns the first value exactly.
        var first = y.Select(2, 0).ToArray();
        Check.Close(v.Select(2, 0).ToArray(), first, 1e-6f);
        // An explicit lower-triangular mask (nonzero = may attend) gives the same result.
        var mask = Tensor.Ones(4, 4).Tril();
        Check.Close(y.ToArray(), F.ScaledDotProductAttention(q, k, v, mask), 1e-6f);
    }

    [Theory]
    [InlineData(false, 5, 5)]
    [InlineData(true, 5, 5)]
    [InlineData(false, 3, 7)]
    [InlineData(true, 7, 4)]
    // Past 64 queries the causal products run in blocks: whole and partial blocks, more keys than
    // queries (keys no query sees get zero gradients) and fewer.
    [InlineData(true, 150, 150)]
    [InlineData(true, 130, 200)]
    [InlineData(true, 200, 70)]
    [InlineData(false, 100, 130)]
    public void FusedAttentionMatchesTheComposite(bool causal, int t, int s)
    {
        // q, k, v as GPT makes them: [B, T, H, D] transposed to [B, H, T, D] (strided views, no copy).
        const int B = 2, H = 3, D = 4;
        var g = new Generator(17);
        var qRaw = Tensor.Randn([B, t, H, D], g);
        var kRaw = Tensor.Randn([B, s, H, D], g);
        var vRaw = Tensor.Randn([B, s, H, D], g);
        var upstream = Tensor.Randn([B, H, t, D], g);
        (float[] Y, float[] Gq, float[] Gk, float[] Gv) Run(bool fused)
        {
            var (qq, kk, vv) = (qRaw.Detach().WithGrad(), kRaw.Detach().WithGrad(), vRaw.Detach().WithGrad());
            var (q, k, v) = (qq.Transpose(1, 2), kk.Transpose(1, 2), vv.Transpose(1, 2));
            var y = fused ? F.ScaledDotProductAttention(q, k, v, isCausal: causal) : Composite.ScaledDotProductAttention(q, k, v, isCausal: causal);
            (y * upstream).Sum().Backward();
            return (y.ToArray(), qq.Grad!.ToArray(), kk.Grad!.ToArray(), vv.Grad!.ToArray());
        }
        var fusedRun = Run(true);
        var reference = Run(false);
        Check.Close(reference.Y, fusedRun.Y, 2e-6f, "output");
        Check.Close(reference.Gq, fusedRun.Gq, 1e-5f, "dq");
        Check.Close(reference.Gk, fusedRun.Gk, 1e-5f, "dk");
        Check.Close(reference.Gv, fusedRun.Gv, 1e-5f, "dv");
    }

    [Fact]
    public void FusedAttentionOutputAndGradientsTakeTheLayoutOfTheirInputs()
    {
        // Heads inside each time step (GPT's q, k, v): the output is (B, T, H, D) memory, so putting the
        // heads back side by side copies nothing; q, k, v's gradients come back in that layout too.
        var g = new Generator(19);
        var qkv = Tensor.Randn([2, 5, 3 * 12], g).WithGrad();
        var parts = qkv.Split(12, 2);
        var (q, k, v) = (parts[0].View(2, 5, 3, 4).Transpose(1, 2), parts[1].View(2, 5, 3, 4).Transpose(1, 2), parts[2].View(2, 5, 3, 4).Transpose(1, 2));
        var y = F.ScaledDotProductAttention(q, k, v, isCausal: true);
        Assert.False(y.IsContiguous);
        Assert.True(y.Transpose(1, 2).IsContiguous);
        var reference = Composite.ScaledDotProductAttention(q, k, v, isCausal: true);
        Check.Close(reference.ToArray(), y, 2e-6f, "output");
        var upstream = Tensor.Randn([2, 5, 12], g);
        (y.Transpose(1, 2).Contiguous().View(2, 5, 12) * upstream).Sum().Backward();
        var fused = qkv.Grad!.ToArray();
        qkv.Grad = null;
        (reference.Transpose(1, 2).Contiguous().View(2, 5, 12) * upstream).Sum().Backward();
        Check.Close(qkv.Grad!.ToArray(), fused, 1e-5f, "d(qkv)");
        // Contiguous inputs, contiguous output.
        var plain = Tensor.Randn([2, 3, 5, 4], g);
        Assert.True(F.ScaledDotProductAttention(plain, plain, plain, isCausal: true).IsContiguous);
    }

    [Fact]
    public void FusedAttentionGradientMatchesFiniteDifferences()
    {
        var g = new Generator(23);
        var k = Tensor.Randn([1, 2, 4, 3], g);
        var v = Tensor.Randn([1, 2, 4, 3], g);
        var q = Tensor.Randn([1, 2, 4, 3], g).ToArray();
        Check.Gradient(x => F.ScaledDotProductAttention(x, k, v, isCausal: true).Square().Sum(), q, [1, 2, 4, 3], tolerance: 2e-2f, eps: 1e-3f);
    }

    [Fact]
    public void FusedAttentionDropoutIsSeededAndItsGradientIsExact()
    {
        var g = new Generator(29);
        var q = Tensor.Randn([1, 2, 4, 3], g);
        var k = Tensor.Randn([1, 2, 4, 3], g);
        var v = Tensor.Randn([1, 2, 4, 3], g);
        Tensor Run(Tensor query) => F.ScaledDotProductAttention(query, k, v, isCausal: true, dropoutP: 0.3f, generator: new Generator(5));
        Assert.Equal(Run(q).ToArray(), Run(q).ToArray());
        Assert.NotEqual(Run(q).ToArray(), F.ScaledDotProductAttention(q, k, v, isCausal: true).ToArray());
        // Each evaluation redraws the same mask (same seed), so the function is smooth in q and v.
        Check.Gradient(x => Run(x).Square().Sum(), q.ToArray(), [1, 2, 4, 3], tolerance: 2e-2f, eps: 1e-3f);
        Check.Gradient(x => F.ScaledDotProductAttention(q, k, x, isCausal: true, dropoutP: 0.3f, generator: new Generator(5)).Square().Sum(),
            v.ToArray(), [1, 2, 4, 3], tolerance: 2e-2f, eps: 1e-3f);
    }

    /// <summary>
    /// The mask is CounterDropout's, entry (b, i, j) at index (b T + i) S + j of the seed the op draws from
    /// its generator: the CUDA kernel computes the same function, so this pins both backends to one mask.
    /// </summary>
    [Fact]
    public void FusedAttentionDropoutDropsTheEntriesTheCounterHashNames()
    {
        const int B = 3, T = 70, D = 8;   // 70 > 64: the causal products run in blocks
        const float p = 0.25f, keep = 1f - p;
        var g = new Generator(21);
        var (q, k, v) = (Tensor.Randn([B, T, D], g), Tensor.Randn([B, T, D], g), Tensor.Randn([B, T, D], g));
        var y = F.ScaledDotProductAttention(q, k, v, isCausal: true, dropoutP: p, generator: new Generator(9)).ToArray();
        var seed = new Generator(9).NextUInt64();
        var (qa, ka, va) = (q.ToArray(), k.ToArray(), v.ToArray());
        var scale = 1.0 / Math.Sqrt(D);
        var dropped = 0;
        for (var b = 0; b < B; b++)
            for (var i = 0; i < T; i++)
            {
                var scores = new double[i + 1];
                for (var j = 0; j <= i; j++)
                    for (var d = 0; d < D; d++) scores[j] += qa[(b * T + i) * D + d] * ka[(b * T + j) * D + d] * scale;
                var max = scores.Max();
                var sum = scores.Sum(s => Math.Exp(s - max));
                for (var d = 0; d < D; d++)
                {
                    var expected = 0.0;
                    for (var j = 0; j <= i; j++)
                    {
                        var kept = Backends.CounterDropout.Keeps(seed, (ulong)((b * T + i) * T + j), keep);
                        if (d == 0 && !kept) dropped++;
                        if (kept) expected += Math.Exp(scores[j] - max) / sum / keep * va[(b * T + j) * D + d];
                    }
                    Assert.True(Math.Abs(expected - y[(b * T + i) * D + d]) < 2e-5, $"[{b},{i},{d}]: {y[(b * T + i) * D + d]} vs {expected}");
                }
            }
        var visible = B * T * (T + 1) / 2;
        Assert.InRange(dropped / (double)visible, p - 0.03, p + 0.03);   // 7,455 visible weights: p within ~6 sigma
    }

    [Fact]
    public void CounterDropoutKeepsTheRequestedFractionAndDependsOnTheSeed()
    {
        const int n = 1_000_000;
        const float keep = 0.7f;
        int kept = 0, agree = 0;
        for (var i = 0UL; i < n; i++)
        {
            var a = Backends.CounterDropout.Keeps(42, i, keep);
            if (a) kept++;
            if (a == Backends.CounterDropout.Keeps(43, i, keep)) agree++;
        }
        Assert.InRange(kept / (double)n, keep - 0.003, keep + 0.003);          // sigma = 4.6e-4
        // Independent seeds agree on keep^2 + (1 - keep)^2 = 58% of entries, not all of them.
        Assert.InRange(agree / (double)n, 0.58 - 0.003, 0.58 + 0.003);
        Assert.False(Backends.CounterDropout.Keeps(1, 0, 0f));                 // keep 0 drops everything
        Assert.True(Backends.CounterDropout.Keeps(1, 0, 1f));                  // keep 1 keeps everything
    }

    [Fact]
    public void FusedAttentionDropoutKeepsTheExpectation()
    {
        var g = new Generator(31);
        var q = Tensor.Randn([1, 1, 8, 4], g);
        var k = Tensor.Randn([1, 1, 8, 4], g);
        var v = Tensor.Randn([1, 1, 8, 4], g);
        var exact = F.ScaledDotProductAttention(q, k, v).ToArray();
        var mean = new double[exact.Length];
        const int draws = 4000;
        var seeds = new Generator(7);
        for (var i = 0; i < draws; i++)
        {
            var y = F.ScaledDotProductAttention(q, k, v, dropoutP: 0.5f, generator: seeds).ToArray();
            for (var j = 0; j < y.Length; j++) mean[j] += y[j] / draws;
        }
        for (var j = 0; j < exact.Length; j++) Assert.True(Math.Abs(mean[j] - exact[j]) < 0.08, $"[{j}] {mean[j]} vs {exact[j]}");
    }
}

/// <summary>The fused linear layer against its composite (matmul with a transposed view, broadcast add).</summary>
public sealed class LinearKernelTests
{
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void FusedLinearMatchesTheComposite(bool withBias, bool stridedInput)
    {
        var g = new Generator(41);
        var xData = Tensor.Randn(stridedInput ? [3, 5, 4] : [3, 4, 5], g);
        var wData = Tensor.Randn([6, 5], g);
        var bData = Tensor.Randn([6], g);
        var upstream = Tensor.Randn([3, 4, 6], g);
        (float[] Y, float[] Gx, float[] Gw, float[]? Gb) Run(Func<Tensor, Tensor, Tensor?, Tensor> linear)
        {
            var (x, w, b) = (xData.Detach().WithGrad(), wData.Detach().WithGrad(), withBias ? bData.Detach().WithGrad() : null);
            var input = stridedInput ? x.Transpose(1, 2) : x;   // [3, 4, 5] either way
            var y = linear(input, w, b);
            (y * upstream).Sum().Backward();
            return (y.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), b?.Grad!.ToArray());
        }
        var fused = Run(F.Linear);
        var reference = Run(Composite.Linear);
        LlmCourse.Tensors.Tests.Core.Check.Close(reference.Y, fused.Y, 2e-6f, "output");
        LlmCourse.Tensors.Tests.Core.Check.Close(reference.Gx, fused.Gx, 2e-6f, "dx");
        LlmCourse.Tensors.Tests.Core.Check.Close(reference.Gw, fused.Gw, 2e-6f, "dw");
        if (withBias) LlmCourse.Tensors.Tests.Core.Check.Close(reference.Gb!, fused.Gb!, 2e-6f, "db");
    }
}
