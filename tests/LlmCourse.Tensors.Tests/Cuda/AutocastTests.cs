using LlmCourse.Tensors.Optim;
using LlmCourse.Tensors.Tests.Core;
using LlmCourse.Tensors.Tests.Parity;
using LlmCourse.Tensors.Tests.Regression;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Autocast on the CPU: the same numerics a GPU gives (operands and results rounded to bf16, float32
/// accumulation), checked against products of operands rounded by hand, and a short GPT training run
/// that must stay near its float32 twin without being identical to it.
/// </summary>
public sealed class AutocastTests(ITestOutputHelper output)
{
    static Tensor Random(int[] shape, ulong seed) => Tensor.Randn(shape, new Generator(seed));

    /// <summary>bf16 rounding of the values, by the storage conversion (a different code path from autocast's).</summary>
    static Tensor Bf16(Tensor t) => t.Detach().To(DType.BFloat16).To(DType.Float32);

    [Fact]
    public void RoundingIsToNearestEvenLikeTheBFloat16Conversion()
    {
        // Around 1, bf16 steps by 2^-7: 1 + 2^-8 is a tie (goes to the even 1), 1 + 3*2^-8 a tie that goes
        // up to the even 1 + 2^-6, 1 + 2^-8 + 2^-20 is just past the tie (goes up), NaN stays NaN.
        float[] x = [1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), 1f + MathF.Pow(2, -8) + MathF.Pow(2, -20), -2.5f, float.NaN, 3e38f];
        var rounded = Tensor.FromArray(x).RoundedTo(DType.BFloat16).ToArray();
        Assert.Equal(1f, rounded[0]);
        Assert.Equal(1f + MathF.Pow(2, -6), rounded[1]);
        Assert.Equal(1f + MathF.Pow(2, -7), rounded[2]);
        Assert.Equal(-2.5f, rounded[3]);
        Assert.True(float.IsNaN(rounded[4]));
        Assert.Equal(Bf16(Tensor.FromArray(x)).ToArray()[5], rounded[5]);
        var half = Tensor.FromArray([1f + MathF.Pow(2, -11), 70000f]).RoundedTo(DType.Float16).ToArray();
        Assert.Equal(1f, half[0]);                       // fp16 steps by 2^-10 around 1: a tie, to even
        Assert.True(float.IsPositiveInfinity(half[1]));  // past fp16's largest value (65504)
    }

    [Fact]
    public void MatMulUnderAutocastIsTheProductOfRoundedOperandsRounded()
    {
        var a = Random([3, 37, 29], 1);
        var b = Random([29, 23], 2);
        Tensor actual;
        using (Autocast.BFloat16()) actual = a.MatMul(b);
        var expected = Bf16(Bf16(a).MatMul(Bf16(b)));
        Assert.Equal(expected.ToArray(), actual.ToArray());
        // and it is not the float32 product: autocast did something
        var exact = a.MatMul(b).ToArray();
        Assert.True(exact.Zip(actual.ToArray()).Max(p => Math.Abs(p.First - p.Second)) > 1e-4f);
        Assert.False(Autocast.IsEnabled);
    }

    [Fact]
    public void LinearForwardAndBackwardUnderAutocastRoundOperandsAndGradients()
    {
        var x = Random([5, 7, 33], 3).WithGrad();
        var w = Random([19, 33], 4).WithGrad();
        var bias = Random([19], 5).WithGrad();
        var gy = Random([5, 7, 19], 6);
        Tensor y;
        using (Autocast.BFloat16()) y = F.Linear(x, w, bias);
        y.Backward(gy); // outside the scope, like PyTorch: backward keeps forward's precision

        // Reference: the same products on operands rounded by the dtype conversion.
        var expectedY = Bf16(Bf16(x).MatMul(Bf16(w).T) + Bf16(bias));
        Check.Close(expectedY.ToArray(), y.ToArray(), 1e-6f, "y");   // the bias add order differs by an ulp before rounding
        var g = Bf16(gy).Reshape(35, 19);
        var expectedDx = Bf16(g.MatMul(Bf16(w)));
        var expectedDw = Bf16(g.T.MatMul(Bf16(x).Reshape(35, 33)));
        Assert.Equal(expectedDx.ToArray(), x.Grad!.ToArray());
        Assert.Equal(expectedDw.ToArray(), w.Grad!.ToArray());
        Check.Close(g.Sum(0).ToArray(), bias.Grad!, 1e-5f, "bias gradient");
    }

    [Fact]
    public void AnActivationOfAnAutocastProductIsA16BitResultAndSoIsItsGradient()
    {
        // PyTorch runs GELU, ReLU, SiLU, tanh and sigmoid in their input's dtype: bf16 in, bf16 out, and a bf16 tensor's
        // gradient is bf16. A product's result under autocast counts as bf16; a float32 input, or exp, stays float32.
        static bool AllBf16(Tensor t) => t.ToArray().All(v => Bf16(Tensor.FromArray([v])).ToArray()[0] == v);
        var x = Random([6, 40], 20);
        var w = Random([50, 40], 21);
        Tensor h, gelu, relu, exp, plain;
        using (Autocast.BFloat16())
        {
            h = F.Linear(x, w).Detach().WithGrad();   // a product's result (its storage marked), as a leaf to read its gradient
            gelu = h.Gelu();
            relu = h.Relu();
            exp = (h * 0.01f).Exp();                  // a product's result times a float: float32, then exp: float32
            plain = x.Gelu();                         // GELU of a float32 tensor: float32
        }
        Assert.Equal(Bf16(h.Detach().Gelu()).ToArray(), gelu.ToArray());
        Assert.Equal(Bf16(h.Detach().Relu()).ToArray(), relu.ToArray());
        Assert.Equal((h.Detach() * 0.01f).Exp().ToArray(), exp.ToArray());
        Assert.False(AllBf16(exp));
        Assert.Equal(x.Gelu().ToArray(), plain.ToArray());
        Assert.False(AllBf16(plain));
        (gelu * Random([6, 50], 22)).Sum().Backward();
        Assert.True(AllBf16(h.Grad!), "the gradient of a 16-bit result is 16-bit");

        // In an MLP this changes no value: the next product rounds GELU's output anyway.
        var w2 = Random([40, 50], 23);
        Tensor y;
        using (Autocast.BFloat16()) y = F.Linear(F.Linear(x, w).Gelu(), w2);
        var hidden = Bf16(Bf16(x).MatMul(Bf16(w).T));
        Assert.Equal(Bf16(Bf16(hidden.Gelu()).MatMul(Bf16(w2).T)).ToArray(), y.ToArray());
    }

    [Fact]
    public void TheLogitsOfAnAutocastProductGetA16BitGradient()
    {
        // PyTorch's autocast runs cross-entropy in float32 on a float32 copy of the bf16 logits: the loss is float32, and
        // the copy's backward gives the logits a bf16 gradient. Here likewise: the gradient of logits that are a product's
        // result under autocast is the float32 gradient rounded to bf16; float32 logits keep a float32 gradient.
        static bool AllBf16(Tensor t) => t.ToArray().All(v => Bf16(Tensor.FromArray([v])).ToArray()[0] == v);
        var x = Random([12, 40], 30);
        var w = Random([65, 40], 31);
        var targets = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => i == 5 ? -100 : i * 11 % 65).ToArray(), [12]);
        Tensor logits, plain, loss;
        using (Autocast.BFloat16())
        {
            logits = F.Linear(x, w).Detach().WithGrad();   // a product's result (its storage marked), as a leaf to read its gradient
            plain = (Random([12, 65], 32) * 3f).WithGrad();
            loss = F.CrossEntropy(logits, targets, labelSmoothing: 0.1f) + F.CrossEntropy(plain, targets);
        }
        Assert.Equal(DType.Float32, loss.DType);
        loss.Backward();
        var reference = logits.Detach().WithGrad();
        F.CrossEntropy(reference, targets, labelSmoothing: 0.1f).Backward();
        Assert.Equal(Bf16(reference.Grad!).ToArray(), logits.Grad!.ToArray());
        Assert.False(AllBf16(reference.Grad!));   // so the rounding did something
        Assert.False(AllBf16(plain.Grad!), "float32 logits keep a float32 gradient");

        // In a language model's output layer this changes no value: the product's backward rounds the gradient anyway.
        var (xl, wl) = (x.WithGrad(), w.WithGrad());
        Tensor lossL;
        using (Autocast.BFloat16()) lossL = F.CrossEntropy(F.Linear(xl, wl), targets);
        lossL.Backward();
        var h = Bf16(Bf16(x).MatMul(Bf16(w).T)).WithGrad();
        F.CrossEntropy(h, targets).Backward();
        var g = Bf16(h.Grad!);
        Assert.Equal(Bf16(g.T.MatMul(Bf16(x))).ToArray(), wl.Grad!.ToArray());
        Assert.Equal(Bf16(g.MatMul(Bf16(w))).ToArray(), xl.Grad!.ToArray());
    }

    [Fact]
    public void AttentionUnderAutocastIsAttentionOfRoundedInputsRounded()
    {
        var q = Random([2, 3, 17, 8], 7);
        var k = Random([2, 3, 17, 8], 8);
        var v = Random([2, 3, 17, 8], 9);
        Tensor actual;
        using (Autocast.BFloat16()) actual = F.ScaledDotProductAttention(q, k, v, isCausal: true);
        var expected = Bf16(F.ScaledDotProductAttention(Bf16(q), Bf16(k), Bf16(v), isCausal: true));
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Fact]
    public void ScopesNestAndMustEndInOrder()
    {
        var outer = Autocast.BFloat16();
        Assert.Equal(DType.BFloat16, Autocast.CurrentPrecision);
        using (Autocast.Disabled()) Assert.False(Autocast.IsEnabled);
        Assert.Equal(DType.BFloat16, Autocast.CurrentPrecision);
        var inner = Autocast.Float16();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        outer.Dispose();
        Assert.Equal(DType.Float32, Autocast.CurrentPrecision);
    }

    /// <summary>
    /// The GPT regression model (2 layers, 48 channels, vocab 65), 10 AdamW steps at lr 1e-2 from the
    /// same weights on one batch (the loss falls from 6.3 to 0.15), in float32 and under bf16 autocast.
    /// bf16 keeps 8 bits of mantissa (2^-9 ≈ 2e-3 relative per rounding). Tolerances: the first loss
    /// (one forward pass) within 1e-3 relative (measured 5e-5); every step within 5% of the float32 loss
    /// (measured at most 2.4%, at step 6, as the small rounding differences steer Adam's steps apart).
    /// A broken backward under autocast stalls or diverges the curve by far more within 10 steps.
    /// </summary>
    [Fact]
    public void Bf16TrainingRunStaysNearTheFloat32Run()
    {
        var fp32 = TrainTinyGpt(autocast: false);
        var bf16 = TrainTinyGpt(autocast: true);
        var worst = 0.0;
        for (var i = 0; i < fp32.Length; i++)
        {
            var relative = Math.Abs(bf16[i] - fp32[i]) / fp32[i];
            worst = Math.Max(worst, relative);
            output.WriteLine($"step {i}: fp32 {fp32[i]:F5}  bf16 {bf16[i]:F5}  relative {relative:E2}");
        }
        Assert.True(fp32[^1] < fp32[0] * 0.9, "the float32 run should learn");
        Assert.True(Math.Abs(bf16[0] - fp32[0]) / fp32[0] <= 1e-3, $"first loss: bf16 {bf16[0]} vs float32 {fp32[0]} (tolerance 1e-3 relative)");
        Assert.True(worst <= 0.05, $"bf16 autocast is {worst:E2} away from float32 (tolerance 5e-2 relative)");
        Assert.True(worst > 1e-7, "autocast changed nothing: the operands were not rounded");
    }

    static double[] TrainTinyGpt(bool autocast)
    {
        var config = Fixtures.Get("gpt", "config").ToInt32Array();   // vocab, layers, heads, embd, block, batch
        var parameters = Fixtures.File("gpt").Where(kv => kv.Key.StartsWith("param/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param/".Length..], kv => Fixtures.Copy(kv.Value).WithGrad());
        var model = new TinyGpt(parameters, config[1], config[2]);
        var (idx, targets) = (Fixtures.Copy(Fixtures.Get("gpt", "idx")), Fixtures.Copy(Fixtures.Get("gpt", "targets")));
        var optimizer = new AdamW(parameters.Values, lr: 1e-2f);
        var losses = new double[10];
        for (var step = 0; step < losses.Length; step++)
        {
            optimizer.ZeroGrad();
            Tensor loss;
            using (autocast ? Autocast.BFloat16() : Autocast.Disabled()) loss = model.Forward(idx, targets, fusedAttention: true).Loss;
            losses[step] = loss.Item();
            loss.Backward();
            optimizer.Step();
        }
        return losses;
    }

    [Fact]
    public void GradScalerSkipsStepsWithOverflowAndAdaptsTheScale()
    {
        var w = Tensor.FromArray([0.5f, -1f, 2f]).WithGrad();
        var optimizer = new SGD([w], lr: 0.1f);
        var scaler = new GradScaler(initialScale: 3e38f, growthInterval: 2);
        // The scaled gradient overflows float32: the step is skipped and the scale halves.
        optimizer.ZeroGrad();
        scaler.Scale((w * w).Sum() * 10f).Backward();
        Assert.False(scaler.Step(optimizer));
        scaler.Update();
        Assert.Equal(new[] { 0.5f, -1f, 2f }, w.ToArray());
        Assert.Equal(1.5e38f, scaler.CurrentScale);
        Assert.Equal(1, scaler.SkippedSteps);

        var small = new GradScaler(initialScale: 1024f, growthInterval: 2);
        for (var step = 0; step < 2; step++)
        {
            optimizer.ZeroGrad();
            var before = w.ToArray();
            small.Scale((w * w).Sum()).Backward();
            Assert.True(small.Step(optimizer));
            small.Update();
            // the step used the unscaled gradient 2w: w <- w - 0.1 * 2w
            Check.Close(before.Select(v => v * 0.8f).ToArray(), w, 1e-6f, "SGD step on the unscaled gradient");
        }
        Assert.Equal(2048f, small.CurrentScale); // grew after growthInterval clean steps
    }

    [Fact]
    public void GradScalerBackoffRestartsTheCountOfCleanSteps()
    {
        // torch.amp.GradScaler: an overflow halves the scale and sets the growth tracker back to 0, so the scale
        // grows again only after growthInterval clean steps in a row (clean steps before the overflow do not count).
        var w = Tensor.FromArray([1f]).WithGrad();
        var optimizer = new SGD([w], lr: 0.1f);
        var scaler = new GradScaler(initialScale: 64f, growthInterval: 3);
        void Step(float gradient)
        {
            w.grad = Tensor.FromArray([gradient]);
            scaler.Step(optimizer);
            scaler.Update();
        }
        Step(64f);
        Step(64f);
        Assert.Equal((64f, 2), (scaler.CurrentScale, scaler.GrowthTracker));
        Step(float.PositiveInfinity);
        Assert.Equal((32f, 0), (scaler.CurrentScale, scaler.GrowthTracker));
        Step(32f);
        Step(32f);
        Assert.Equal((32f, 2), (scaler.CurrentScale, scaler.GrowthTracker));   // 2 clean steps since the backoff: no growth yet
        Step(32f);
        Assert.Equal((64f, 0), (scaler.CurrentScale, scaler.GrowthTracker));
    }

    [Fact]
    public void GradScalerUnscaleDividesEveryGradientAndFindsANaNInAnyOfThem()
    {
        // Several parameters, one NaN in the last one's gradient: one check over all of them finds it.
        var parameters = Enumerable.Range(0, 4).Select(i => Tensor.FromArray([1f + i, -2f, 3f]).WithGrad()).ToArray();
        var optimizer = new SGD(parameters, lr: 0.1f);
        float[][] Grads() => parameters.Select(p => p.Grad!.ToArray()).ToArray();
        void SetGrads(float last)   // p_i's gradient: 256 (i + 1), the last one's middle element replaced
        {
            for (var i = 0; i < parameters.Length; i++)
                parameters[i].grad = Tensor.FromArray([256f * (i + 1), i == parameters.Length - 1 ? last : 256f * (i + 1), 256f * (i + 1)]);
        }

        var scaler = new GradScaler(initialScale: 256f);
        SetGrads(4 * 256f);
        scaler.Unscale(optimizer);
        Assert.False(scaler.FoundNonFinite);
        Assert.Equal(parameters.Select((_, i) => Enumerable.Repeat(i + 1f, 3).ToArray()).ToArray(), Grads());
        scaler.Update();

        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            SetGrads(bad);
            Assert.False(scaler.Step(optimizer), $"a gradient of {bad} must skip the step");
            Assert.True(scaler.FoundNonFinite);
            scaler.Update();
            Assert.False(scaler.FoundNonFinite);
        }
        Assert.Equal(32f, scaler.CurrentScale);   // halved three times
        Assert.Equal(3, scaler.SkippedSteps);
        Assert.Equal(new[] { 1f, -2f, 3f }, parameters[0].ToArray());   // no step was taken

        scaler.LoadState(1024f, 7);
        Assert.Equal((1024f, 7), (scaler.CurrentScale, scaler.GrowthTracker));
        Assert.Throws<ArgumentOutOfRangeException>(() => scaler.LoadState(float.PositiveInfinity, 0));
    }
}
