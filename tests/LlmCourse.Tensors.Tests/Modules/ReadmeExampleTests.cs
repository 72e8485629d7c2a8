using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Optim;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Modules;

/// <summary>The README's example of the tensor engine, as written there, trains (its loss falls).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void TheReadmeExampleRunsAndLearns()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).WithGrad();
        var y = (x * x).Sum();
        Assert.Equal("tensor(14., grad_fn=<SumBackward>)", y.ToString());
        y.Backward();
        Assert.Equal("tensor([2., 4., 6.])", x.Grad!.ToString());

        var gen = new Generator(1337);
        var model = new Sequential(new Linear(10, 32, generator: gen), new Tanh(), new Linear(32, 3, generator: gen));
        var optimizer = new AdamW(model.Parameters(), lr: 1e-2f, weightDecay: 0.01f);
        var inputs = Tensor.Randn([64, 10], gen);
        var targets = Tensor.RandInt(0, 3, [64], gen);
        var losses = new List<float>();
        for (var step = 0; step < 100; step++)
        {
            using var scope = TensorScope.Begin();
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(inputs), targets);
            loss.Backward();
            GradClip.ClipGradNorm(model.Parameters(), 1f);
            optimizer.Step();
            losses.Add(loss.Item());
        }
        Assert.True(losses[^1] < 0.25f * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
        var path = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            Assert.Equal(model.StateDict().Keys.Order(), Safetensors.Load(path).Keys.Order());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
