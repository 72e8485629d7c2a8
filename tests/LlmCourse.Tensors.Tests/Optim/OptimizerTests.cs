using LlmCourse.Tensors.Optim;

namespace LlmCourse.Tensors.Tests.Optim;

/// <summary>Each optimizer's update against the formula computed by hand (in double) for a few steps.</summary>
public sealed class OptimizerTests
{
    static Tensor Param(params float[] values) => Tensor.FromArray(values).WithGrad();

    static void SetGrad(Tensor p, params float[] g) => p.Grad = Tensor.FromArray(g);

    [Fact]
    public void SgdWithMomentumAndWeightDecay()
    {
        var p = Param(1f, -2f);
        var opt = new SGD([p], lr: 0.1f, momentum: 0.9f, weightDecay: 0.01f);
        double[] x = [1, -2], buf = [0, 0];
        double[][] grads = [[0.5, -1], [0.25, 2], [-1, 0]];
        for (var step = 0; step < 3; step++)
        {
            SetGrad(p, grads[step].Select(v => (float)v).ToArray());
            opt.Step();
            for (var i = 0; i < 2; i++)
            {
                var g = grads[step][i] + 0.01 * x[i];
                buf[i] = step == 0 ? g : 0.9 * buf[i] + g;
                x[i] -= 0.1 * buf[i];
            }
            var got = p.ToArray();
            for (var i = 0; i < 2; i++) Assert.Equal(x[i], got[i], 5);
        }
    }

    [Fact]
    public void NesterovUsesTheLookAhead()
    {
        var p = Param(1f);
        var opt = new SGD([p], lr: 0.5f, momentum: 0.5f, nesterov: true);
        SetGrad(p, 1f);
        opt.Step();   // buf = 1, update = 1 + 0.5 * 1 = 1.5
        Assert.Equal(1f - 0.75f, p.Item(), 6);
        SetGrad(p, 1f);
        opt.Step();   // buf = 0.5 + 1 = 1.5, update = 1 + 0.75 = 1.75
        Assert.Equal(0.25f - 0.875f, p.Item(), 6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamAndAdamWMatchTheFormula(bool decoupled)
    {
        var p = Param(0.5f, -1.5f, 2f);
        const double lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
        Optimizer opt = decoupled
            ? new AdamW([p], (float)lr, (float)b1, (float)b2, (float)eps, (float)wd)
            : new Adam([p], (float)lr, (float)b1, (float)b2, (float)eps, (float)wd);
        double[] x = [0.5, -1.5, 2], m = new double[3], v = new double[3];
        double[][] grads = [[0.1, -0.2, 0.3], [0.3, 0.1, -0.5], [-0.2, 0.2, 0.0]];
        for (var t = 1; t <= 3; t++)
        {
            SetGrad(p, grads[t - 1].Select(g => (float)g).ToArray());
            opt.Step();
            for (var i = 0; i < 3; i++)
            {
                var g = grads[t - 1][i];
                if (decoupled) x[i] *= 1 - lr * wd;
                else g += wd * x[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                var mHat = m[i] / (1 - Math.Pow(b1, t));
                var vHat = v[i] / (1 - Math.Pow(b2, t));
                x[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
            var got = p.ToArray();
            for (var i = 0; i < 3; i++) Assert.True(Math.Abs(x[i] - got[i]) < 2e-6, $"step {t} [{i}]: {got[i]} vs {x[i]}");
        }
    }

    [Fact]
    public void ParamGroupsHaveTheirOwnWeightDecayAndSkipMissingGradients()
    {
        var decayed = Param(1f);
        var plain = Param(1f);
        var idle = Param(1f);
        var opt = new AdamW([new ParamGroup([decayed], weightDecay: 0.5f), new ParamGroup([plain, idle], weightDecay: 0f)], lr: 0.1f);
        SetGrad(decayed, 0f);
        SetGrad(plain, 0f);
        opt.Step();
        Assert.Equal(1f * (1 - 0.1f * 0.5f), decayed.Item(), 6);
        Assert.Equal(1f, plain.Item());
        Assert.Equal(1f, idle.Item());
        opt.LearningRate = 0.2f;
        Assert.All(opt.ParamGroups, g => Assert.Equal(0.2f, g.LearningRate));
    }

    [Fact]
    public void StateDictResumesExactly()
    {
        Tensor Run(int steps, Optimizer? resumeFrom, out Optimizer opt, Tensor? start = null)
        {
            var p = start is null ? Param(1f, 2f, 3f) : start;
            opt = new AdamW([p], lr: 0.05f);
            if (resumeFrom is not null) opt.LoadStateDict(resumeFrom.StateDict());
            for (var s = 0; s < steps; s++)
            {
                SetGrad(p, p.ToArray().Select(v => v * 0.5f - 1f).ToArray());
                opt.Step();
            }
            return p;
        }
        var straight = Run(6, null, out _);
        var half = Run(3, null, out var first);
        var resumed = Run(3, first, out _, Tensor.FromArray(half.ToArray()).WithGrad());
        Assert.Equal(straight.ToArray(), resumed.ToArray());
    }

    [Fact]
    public void LoadStateDictRestoresEachGroupsLearningRateAndWeightDecay()
    {
        // As PyTorch's load_state_dict: the hyper-parameters of the saved groups come back, not the new optimizer's defaults.
        var saved = new AdamW([new ParamGroup([Param(1f)], weightDecay: 0.3f), new ParamGroup([Param(2f)], weightDecay: 0f)], lr: 0.05f);
        saved.LearningRate = 0.02f;                          // what a schedule leaves in the optimizer
        var loaded = new AdamW([new ParamGroup([Param(1f)]), new ParamGroup([Param(2f)])], lr: 0.1f, weightDecay: 0.01f);
        loaded.LoadStateDict(saved.StateDict());
        Assert.Equal([0.02f, 0.02f], loaded.ParamGroups.Select(g => g.LearningRate!.Value));
        Assert.Equal([0.3f, 0f], loaded.ParamGroups.Select(g => g.WeightDecay!.Value));
    }

    [Fact]
    public void WarmupCosineWithNoDecayPhase_IsMinLrFromTheEndOfTheWarmup()
    {
        // warmupSteps == totalSteps (a run shorter than its warmup): the cosine has no steps, so from step 5 on it is
        // min_lr, as nanoGPT's get_lr gives for it > lr_decay_iters (no 0/0 decay ratio).
        var s = new WarmupCosineLr(maxLr: 1e-3f, minLr: 1e-4f, warmupSteps: 5, totalSteps: 5);
        Assert.Equal(1e-3f * 5 / 6, s.At(4), 9);
        Assert.Equal(1e-4f, s.At(5));
        Assert.Equal(1e-4f, s.At(6));
        Assert.Equal(1e-4f, new WarmupCosineLr(1e-3f, 1e-4f, 0, 0).At(0));
    }

    [Fact]
    public void WarmupCosineIsNanoGptsGetLr()
    {
        var s = new WarmupCosineLr(maxLr: 6e-4f, minLr: 6e-5f, warmupSteps: 10, totalSteps: 110);
        Assert.Equal(6e-4f * 1 / 11, s.At(0), 9);
        Assert.Equal(6e-4f * 10 / 11, s.At(9), 9);
        Assert.Equal(6e-4f, s.At(10), 9);                             // cos(0) = 1
        Assert.Equal((6e-4f + 6e-5f) / 2, s.At(60), 9);               // halfway: cos(pi/2) = 0
        Assert.Equal(6e-5f, s.At(110), 9);
        Assert.Equal(6e-5f, s.At(500), 9);
        Assert.Equal(0.3f, new ConstantLr(0.3f).At(123));
    }

    [Fact]
    public void ClipGradNormScalesToTheMaximum()
    {
        var a = Param(0f, 0f);
        var b = Param(0f);
        SetGrad(a, 3f, 0f);
        SetGrad(b, 4f);
        var total = GradClip.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, total, 6);
        var clipped = a.Grad!.ToArray().Concat(b.Grad!.ToArray()).ToArray();
        Assert.Equal(1f, MathF.Sqrt(clipped.Sum(v => v * v)), 5);
        Assert.Equal(1f, GradClip.ClipGradNorm([a, b], 10f), 5);     // below the maximum: unchanged
        Assert.Equal(1f, MathF.Sqrt(a.Grad!.ToArray().Concat(b.Grad!.ToArray()).Sum(v => v * v)), 5);
    }

    [Fact]
    public void ClipGradNormAddsPyTorchsEpsilonToTheNorm()
    {
        // clip_coef = max_norm / (total + 1e-6): with a norm of 5e-7 and max_norm 5e-7 the factor is
        // 5e-7 / 1.5e-6 = 1/3, so PyTorch scales the gradient by a third although the norm is not above the limit.
        var a = Param(0f, 0f);
        SetGrad(a, 3e-7f, 4e-7f);
        Assert.Equal(5e-7, GradClip.ClipGradNorm([a], 5e-7f), 1e-12);
        var clipped = a.Grad!.ToArray();
        Assert.Equal(1e-7, clipped[0], 1e-12);
        Assert.Equal(4e-7 / 3, clipped[1], 1e-12);
    }

    [Fact]
    public void ClipGradNormWithANaNGradient_SpreadsTheNaNToEveryGradient()
    {
        // PyTorch: the total norm is NaN, so is max_norm / (NaN + 1e-6), and every gradient is multiplied by it
        // (clamp(NaN, max=1) stays NaN): a NaN is never hidden in one parameter while the others step.
        var a = Param(0f, 0f);
        var b = Param(0f);
        SetGrad(a, 0.1f, float.NaN);
        SetGrad(b, 0.2f);
        Assert.True(float.IsNaN(GradClip.ClipGradNorm([a, b], 1f)));
        Assert.All(a.Grad!.ToArray().Concat(b.Grad!.ToArray()), g => Assert.True(float.IsNaN(g)));
    }

    /// <summary>
    /// The norm left as a tensor changes nothing else: the same norm and the same clipped gradients, bit for bit, as
    /// ClipGradNorm, when clipping, when not, and with a NaN (which spreads to every gradient, as in PyTorch).
    /// </summary>
    [Theory]
    [InlineData(0.5f, false)]
    [InlineData(100f, false)]
    [InlineData(1f, true)]
    public void ClipGradNormAsTensor_IsClipGradNorm_WithTheNormLeftOnTheDevice(float maxNorm, bool nan)
    {
        var values = new[] { new[] { 0.3f, -1.7f, 2.2f }, new[] { 0.01f }, new[] { -4f, 0.5f } };
        if (nan) values[1][0] = float.NaN;
        var (read, left) = (values.Select(v => Param(new float[v.Length])).ToArray(), values.Select(v => Param(new float[v.Length])).ToArray());
        for (var i = 0; i < values.Length; i++) { SetGrad(read[i], values[i]); SetGrad(left[i], values[i]); }
        var norm = GradClip.ClipGradNorm(read, maxNorm);
        var tensor = GradClip.ClipGradNormAsTensor(left, maxNorm);
        Assert.Equal([1], tensor.Shape);
        Assert.Equal(BitConverter.SingleToInt32Bits(norm), BitConverter.SingleToInt32Bits(tensor.Item()));
        for (var i = 0; i < values.Length; i++) Assert.Equal(read[i].Grad!.ToArray(), left[i].Grad!.ToArray());
        if (!nan && maxNorm < 1f) Assert.NotEqual(values[0], read[0].Grad!.ToArray());   // it did clip
    }

    [Fact]
    public void GradNormIsTheNormOfAllGradientsTogether_AndChangesNothing()
    {
        var a = Param(0f, 0f);
        var b = Param(0f);
        var frozen = Param(0f);                       // no gradient: left out, as PyTorch does
        SetGrad(a, 2f, -4f);
        SetGrad(b, 4f);
        Assert.Equal(6f, GradClip.GradNorm([a, b, frozen]), 6);   // sqrt(4 + 16 + 16)
        Assert.Equal([2f, -4f], a.Grad!.ToArray());
        Assert.Equal(0f, GradClip.GradNorm([frozen]));
    }
}

/// <summary>The fused, vectorised Adam kernel gives the reference loop's bits (same operations, same order).</summary>
public sealed class AdamKernelTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void VectorPathEqualsTheReferenceLoop(bool decoupled)
    {
        const int n = 100_003; // large enough for the threaded path, odd for the scalar tail
        var p = LlmCourse.Tensors.Tests.Core.Check.Values(n, 1);
        var g = LlmCourse.Tensors.Tests.Core.Check.Values(n, 2);
        var m = LlmCourse.Tensors.Tests.Core.Check.Values(n, 3, 0.1f);
        var v = LlmCourse.Tensors.Tests.Core.Check.Values(n, 4, 0.1f).Select(x => x * x).ToArray();
        var args = new LlmCourse.Tensors.Backends.AdamStepArgs(1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, decoupled, 7);
        var (tp, tg, tm, tv) = (Tensor.FromArray(p), Tensor.FromArray(g), Tensor.FromArray(m), Tensor.FromArray(v));
        tp.Backend.AdamStep(tp, tg, tm, tv, args);
        LlmCourse.Tensors.Backends.Cpu.CpuBackend.AdamReferenceForTests(args, p, g, m, v);
        Assert.Equal(p, tp.ToArray());
        Assert.Equal(m, tm.ToArray());
        Assert.Equal(v, tv.ToArray());
    }
}
