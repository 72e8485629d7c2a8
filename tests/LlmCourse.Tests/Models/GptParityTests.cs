using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;
using LlmCourse.Training;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tests.Models;

/// <summary>
/// The whole GPT against a PyTorch implementation of the same architecture on the same weights
/// (a whole-model regression, after llm.c's test_gpt2.c): the logits and the loss of a fixed batch, the gradient of
/// every parameter, and a 10-step AdamW loss curve with the trainer's optimizer settings. Once with
/// biases, once without.
/// </summary>
[Trait("Category", "Parity")]
public sealed class GptParityTests
{
    static readonly Dictionary<string, Tensor> Fixture = ParityFixtures.Load("gpt.safetensors");

    static Gpt Load(string prefix)
    {
        var model = new Gpt(new GptConfig(VocabSize: 13, BlockSize: 8, Layers: 2, Heads: 2, Embedding: 16, Bias: prefix == "bias"),
            new CharTokenizer("abcdefghijklm"));
        var parameters = Fixture.Where(kv => kv.Key.StartsWith(prefix + ".param.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[(prefix.Length + 7)..], kv => kv.Value);
        model.LoadStateDict(parameters);   // strict: every name must match PyTorch's
        return model;
    }

    [Theory]
    [InlineData("bias")]
    [InlineData("nobias")]
    public void ForwardAndBackward_MatchPyTorch(string prefix)
    {
        var model = Load(prefix);
        var (idx, targets) = (Fixture[$"{prefix}.idx"], Fixture[$"{prefix}.targets"]);

        var logits = model.Forward(idx);
        var loss = F.CrossEntropy(logits.View(-1, 13), targets.View(-1));
        loss.Backward();

        // Logits are sums of ~16–64 products through two blocks: 2e-5 absolute covers float32 reordering.
        ParityFixtures.AssertClose(Fixture[$"{prefix}.logits"], logits, "logits", 2e-5, 1e-4);
        ParityFixtures.AssertClose(Fixture[$"{prefix}.loss"], loss.Reshape(1), "loss", 1e-5, 1e-5);
        Assert.Equal(model.Loss(idx, targets).Item(), loss.Item(), 6);
        var names = model.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(Fixture.Keys.Count(k => k.StartsWith(prefix + ".grad.", StringComparison.Ordinal)), names.Length);
        foreach (var (name, parameter) in model.NamedParameters())
            ParityFixtures.AssertClose(Fixture[$"{prefix}.grad.{name}"], parameter.Grad!, $"∂loss/∂{name}", 2e-5, 1e-3);
    }

    [Theory]
    [InlineData("bias")]
    [InlineData("nobias")]
    public void TenAdamWSteps_FollowPyTorchsLossCurve(string prefix)
    {
        var model = Load(prefix);
        var (idx, targets) = (Fixture[$"{prefix}.idx"], Fixture[$"{prefix}.targets"]);
        var options = new TrainingOptions { LearningRate = 1e-2f, WeightDecay = 0.1f, Beta1 = 0.9f, Beta2 = 0.99f, GradClip = 1f };
        var optimizer = Trainer.CreateOptimizer(model, options);
        var losses = new float[10];
        for (var step = 0; step < 10; step++)
        {
            var loss = model.Loss(idx, targets);
            losses[step] = loss.Item();
            optimizer.ZeroGrad();
            loss.Backward();
            LlmCourse.Tensors.Optim.GradClip.ClipGradNorm(model.Parameters(), options.GradClip);
            optimizer.Step();
        }
        // Ten steps compound float32 differences in the update; 1e-4 nats is still far below one step's change.
        ParityFixtures.AssertClose(Fixture[$"{prefix}.losses"], Tensor.FromArray(losses), "10-step loss curve", 1e-4, 1e-4);
    }
}
