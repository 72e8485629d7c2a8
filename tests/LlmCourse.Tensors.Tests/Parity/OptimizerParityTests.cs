using LlmCourse.Tensors.Optim;

namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// SGD (plain, momentum, Nesterov with weight decay), Adam (with L2 decay), AdamW (groups, a large eps,
/// a learning rate changed between steps) against torch.optim with the same hyperparameters, over six
/// steps with fixed gradients; gradient clipping against clip_grad_norm_; the warmup + cosine schedule
/// against nanoGPT's get_lr (fixtures in engine_optim.safetensors).
/// </summary>
[Trait("Category", "Parity")]
public sealed class OptimizerParityTests(ITestOutputHelper output)
{
    /// <summary>
    /// Six steps: each rounds the parameter (order 1) once, 6e-8, and the update itself (order lr = 1e-2)
    /// carries a relative error of a few 1e-7; 2e-6 leaves headroom and is still 5000x smaller than one
    /// update, so a wrong bias correction, eps placement or decay would show.
    /// </summary>
    static readonly Tolerance Steps = new(2e-6, 2e-6);

    public static TheoryData<string> Configs => new("sgd", "sgd_momentum", "sgd_nesterov_wd", "adam", "adam_wd",
        "adamw", "adamw_groups", "adamw_group_lr", "adamw_large_eps", "adamw_lr_change");

    static Optimizer Make(string config, Tensor[] p) => config switch
    {
        "sgd" => new SGD(p, lr: 0.1f),
        "sgd_momentum" => new SGD(p, lr: 0.05f, momentum: 0.9f),
        "sgd_nesterov_wd" => new SGD(p, lr: 0.05f, momentum: 0.9f, weightDecay: 0.01f, nesterov: true),
        "adam" => new Adam(p, lr: 1e-2f),
        "adam_wd" => new Adam(p, lr: 1e-2f, weightDecay: 0.1f),
        "adamw" => new AdamW(p, lr: 1e-2f, beta1: 0.9f, beta2: 0.95f, eps: 1e-8f, weightDecay: 0.1f),
        "adamw_groups" => new AdamW(
            new[] { new ParamGroup([p[0]], weightDecay: 0.1f), new ParamGroup([p[1]], weightDecay: 0f) },
            lr: 1e-2f, beta1: 0.9f, beta2: 0.95f),
        "adamw_group_lr" => new AdamW(
            new[] { new ParamGroup([p[0]], learningRate: 1e-2f), new ParamGroup([p[1]], learningRate: 1e-3f) },
            lr: 5e-3f, weightDecay: 0.1f),
        "adamw_large_eps" => new AdamW(p, lr: 1e-2f, eps: 0.1f, weightDecay: 0.1f),
        "adamw_lr_change" => new AdamW(p, lr: 1e-2f, weightDecay: 0.1f),
        _ => throw new ArgumentException(config),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void StepsMatchTorchOptim(string config)
    {
        var p = Fixtures.Indexed("optim", $"{config}/param").Select(Fixtures.Copy).ToArray();
        foreach (var t in p) t.RequiresGrad = true;
        var optimizer = Make(config, p);
        var lrs = Fixtures.Has("optim", $"{config}/lr") ? Fixtures.Get("optim", $"{config}/lr").ToArray() : null;
        var steps = 0;
        while (Fixtures.Has("optim", $"{config}/step{steps}/param/0")) steps++;
        Assert.True(steps > 0, $"engine_optim.safetensors has no steps for {config}");
        for (var s = 0; s < steps; s++)
        {
            if (lrs is not null) optimizer.LearningRate = lrs[s];
            for (var i = 0; i < p.Length; i++) p[i].Grad = Fixtures.Copy(Fixtures.Get("optim", $"{config}/step{s}/grad/{i}"));
            optimizer.Step();
            for (var i = 0; i < p.Length; i++)
                TensorAssert.Close($"{config} step {s} param {i}", p[i], Fixtures.Get("optim", $"{config}/step{s}/param/{i}"),
                    Steps, output);
        }
    }

    /// <summary>
    /// Three steps, StateDict, a new optimizer loaded from it, three more steps: the same parameters as
    /// torch.optim's six uninterrupted steps (moments, momentum buffers and step counts all restored).
    /// </summary>
    [Theory]
    [InlineData("sgd_momentum")]
    [InlineData("adam")]
    [InlineData("adamw_groups")]
    public void ResumingFromTheStateDictContinuesExactly(string config)
    {
        var p = Fixtures.Indexed("optim", $"{config}/param").Select(Fixtures.Copy).ToArray();
        foreach (var t in p) t.RequiresGrad = true;
        var optimizer = Make(config, p);
        for (var s = 0; s < 6; s++)
        {
            if (s == 3)
            {
                var state = optimizer.StateDict();
                optimizer = Make(config, p);
                optimizer.LoadStateDict(state);
            }
            for (var i = 0; i < p.Length; i++) p[i].Grad = Fixtures.Copy(Fixtures.Get("optim", $"{config}/step{s}/grad/{i}"));
            optimizer.Step();
        }
        for (var i = 0; i < p.Length; i++)
            TensorAssert.Close($"{config} resumed at step 3, param {i} after 6", p[i], Fixtures.Get("optim", $"{config}/step5/param/{i}"),
                Steps, output);
    }

    [Fact]
    public void ZeroGradClearsEveryGradient()
    {
        var p = new[] { Tensor.Ones(2, 2).WithGrad(), Tensor.Ones(3).WithGrad() };
        var optimizer = new AdamW(p);
        (p[0].Sum() + p[1].Sum()).Backward();
        Assert.All(p, t => Assert.NotNull(t.Grad));
        optimizer.ZeroGrad();
        Assert.All(p, t => Assert.Null(t.Grad));   // set to None, as PyTorch's default set_to_none=True
    }

    [Theory]
    [InlineData("clip")]
    [InlineData("clip_noop")]
    public void ClipGradNormMatchesTorch(string name)
    {
        var grads = Fixtures.Indexed("optim", $"{name}/grad");
        var p = grads.Select(g => Tensor.Zeros(g.Shape).WithGrad()).ToArray();
        for (var i = 0; i < p.Length; i++) p[i].Grad = Fixtures.Copy(grads[i]);
        var maxNorm = Fixtures.Get("optim", $"{name}/max_norm").ToArray()[0];
        var total = GradClip.ClipGradNorm(p, maxNorm);
        // The norm of 25 N(0,1) values (about 5): a sum of squares, so a reduction's tolerance.
        TensorAssert.Close($"{name} total norm", [total], [Fixtures.Get("optim", $"{name}/total_norm").ToArray()[0]], [1],
            Tolerance.Reduction, output);
        for (var i = 0; i < p.Length; i++)
            TensorAssert.Close($"{name} clipped grad {i}", p[i].Grad!, Fixtures.Get("optim", $"{name}/clipped/{i}"),
                Tolerance.Elementwise, output);
    }

    [Fact]
    public void WarmupCosineIsNanoGptGetLr()
    {
        var args = Fixtures.Get("optim", "schedule/args").ToArray();   // maxLr, minLr, warmup, total
        var expected = Fixtures.Get("optim", "schedule/lr").ToArray();
        var schedule = new WarmupCosineLr(args[0], args[1], (int)args[2], (int)args[3]);
        var actual = Enumerable.Range(0, expected.Length).Select(step => (double)schedule.At(step)).ToArray();
        // A float32 evaluation of a cosine: a few ulps of the learning rate.
        TensorAssert.Close("WarmupCosineLr.At(0..130)", actual, expected.Select(v => (double)v).ToArray(),
            [expected.Length], new Tolerance(0, 1e-6), output);
    }
}
