using LlmCourse.Tensors.Optim;
using LlmCourse.Tensors.Tests.Parity;

namespace LlmCourse.Tensors.Tests.Regression;

/// <summary>
/// The whole-model regression of llm.c's test_gpt2.c: a small GPT (vocab 65, 2 layers, 4 heads, 48
/// channels, block 16, batch 4) on a fixed batch; its logits, loss, every parameter's gradient and a
/// 10-step AdamW loss curve against PyTorch's (engine_gpt.safetensors, float64 reference).
/// </summary>
[Trait("Category", "Parity")]
public sealed class GptRegressionTests(ITestOutputHelper output)
{
    // Tolerances. PyTorch's own float32 run of the same model (the yardstick in the fixture's metadata)
    // is off by 3.2e-6 on the logits (|logits| <= 10), 1e-7 on the loss, 1.7e-7 on the gradients
    // (|grad| <= 0.3) and 5e-7 on the 10 losses; a different but sound summation order lands in the same
    // range. The tolerances allow ~30x that, and stay far below what a real bug moves (a dropped bias, a
    // wrong mask or a missing gradient term changes the loss in the second decimal).
    static readonly Tolerance Logits = new(1e-4, 1e-5);
    static readonly Tolerance Loss = new(1e-5, 1e-5);
    static readonly Tolerance Gradients = new(1e-5, 1e-4);
    static readonly Tolerance LossCurve = new(1e-4, 1e-5);
    static readonly Tolerance FinalParameters = new(2e-5, 1e-5);

    static (TinyGpt Model, Tensor Idx, Tensor Targets, int[] Config) Load()
    {
        var config = Fixtures.Get("gpt", "config").ToInt32Array();   // vocab, layers, heads, embd, block, batch
        var parameters = Fixtures.File("gpt").Where(kv => kv.Key.StartsWith("param/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param/".Length..], kv => Fixtures.Copy(kv.Value).WithGrad());
        return (new TinyGpt(parameters, config[1], config[2]), Fixtures.Copy(Fixtures.Get("gpt", "idx")),
            Fixtures.Copy(Fixtures.Get("gpt", "targets")), config);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LogitsLossAndEveryGradientMatchPyTorch(bool fusedAttention)
    {
        var (model, idx, targets, _) = Load();
        var (logits, loss) = model.Forward(idx, targets, fusedAttention);
        TensorAssert.Close("logits", logits, Fixtures.Get("gpt", "logits"), Logits, output);
        TensorAssert.Close("loss", [loss.Item()], [Fixtures.Get("gpt", "loss").ToArray()[0]], [1], Loss, output);
        loss.Backward();
        Assert.Equal(28, model.Parameters.Count);
        foreach (var (name, p) in model.Parameters)
        {
            Assert.True(p.Grad is not null, $"no gradient reached {name}");
            TensorAssert.Close($"grad {name}", p.Grad!, Fixtures.Get("gpt", "grad/" + name), Gradients, output);
        }
    }

    [Fact]
    public void TenAdamWStepsFollowPyTorchsLossCurve()
    {
        var (model, idx, targets, config) = Load();
        var h = Fixtures.Get("gpt", "adamw").ToArray();   // lr, beta1, beta2, eps, weight decay
        // nanoGPT's grouping: decay on every matrix and embedding, none on biases and layer-norm gains.
        var decay = model.Parameters.Values.Where(p => p.Rank >= 2).ToList();
        var noDecay = model.Parameters.Values.Where(p => p.Rank < 2).ToList();
        var optimizer = new AdamW(new[] { new ParamGroup(decay, weightDecay: h[4]), new ParamGroup(noDecay, weightDecay: 0f) },
            lr: h[0], beta1: h[1], beta2: h[2], eps: h[3], weightDecay: h[4]);
        var expected = Fixtures.Get("gpt", "losses").ToArray();
        var initial = model.Parameters.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var losses = new double[expected.Length];
        for (var step = 0; step < expected.Length; step++)
        {
            optimizer.ZeroGrad();
            var (_, loss) = model.Forward(idx, targets);
            losses[step] = loss.Item();
            loss.Backward();
            optimizer.Step();
            output.WriteLine($"step {step}: loss {losses[step]:F6} (PyTorch {expected[step]:F6})");
        }
        TensorAssert.Close("AdamW loss curve", losses, expected.Select(v => (double)v).ToArray(), [expected.Length],
            LossCurve, output);

        // The key bias (the middle third of c_attn.bias) has an exactly zero gradient: it adds q·b to
        // every score of a query alike, and softmax ignores such shifts. Its float32 gradient is
        // rounding noise, which Adam's normalisation turns into ±lr steps, so its value after 10 steps
        // is noise too (float32 PyTorch is 1.8e-3 away from float64 there). For it only the bound
        // holds: Adam never moves a parameter much more than lr per step.
        int C = config[3];
        foreach (var (name, p) in model.Parameters)
        {
            var final = p.ToArray();
            var reference = Fixtures.Get("gpt", "final/" + name).ToArray();
            if (name.EndsWith("attn.c_attn.bias", StringComparison.Ordinal))
            {
                for (var i = C; i < 2 * C; i++)
                {
                    Assert.True(Math.Abs(final[i] - initial[name][i]) <= 1.5 * expected.Length * h[0],
                        $"{name}[{i}] moved {final[i] - initial[name][i]} in {expected.Length} steps of lr {h[0]}");
                    final[i] = reference[i];
                }
            }
            TensorAssert.Close($"{name} after {expected.Length} steps", final.Select(v => (double)v).ToArray(),
                reference.Select(v => (double)v).ToArray(), p.Shape, FinalParameters, output);
        }
    }
}
