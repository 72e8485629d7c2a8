using LlmCourse.Tensors.NN;
using LlmCourse.Tensors.Tests.Core;

namespace LlmCourse.Tensors.Tests.Modules;

public sealed class ModuleTests
{
    sealed class Block : Module
    {
        public Block(Generator g)
        {
            Norm = Register("ln", new LayerNorm(4));
            Proj = Register("proj", new Linear(4, 4, generator: g));
            RegisterBuffer("mask", Tensor.Ones(2, 2));
            RegisterBuffer("cache", Tensor.Zeros(1), persistent: false);
        }

        public LayerNorm Norm { get; }

        public Linear Proj { get; }
    }

    sealed class Model : Module
    {
        public Model(Generator g)
        {
            Embed = Register("wte", new Embedding(10, 4, g));
            Blocks = Register("blocks", new ModuleList<Block>([new Block(g), new Block(g)]));
            Head = Register("head", new Linear(4, 10, bias: false, generator: g));
            Head.Weight = Embed.Weight; // tied, like GPT-2
        }

        public Embedding Embed { get; }

        public ModuleList<Block> Blocks { get; }

        public Linear Head { get; }
    }

    [Fact]
    public void NamesAreDottedInRegistrationOrderAndSharedParametersAppearOnce()
    {
        var m = new Model(new Generator(1));
        var names = m.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(new[]
        {
            "wte.weight",
            "blocks.0.ln.weight", "blocks.0.ln.bias", "blocks.0.proj.weight", "blocks.0.proj.bias",
            "blocks.1.ln.weight", "blocks.1.ln.bias", "blocks.1.proj.weight", "blocks.1.proj.bias",
        }, names);
        Assert.Equal(10 * 4 + 2 * (4 + 4 + 16 + 4), m.ParameterCount());
        Assert.Contains(("blocks.1.proj", (Module)m.Blocks[1].Proj), m.NamedModules());
        Assert.All(m.Parameters(), p => Assert.True(p.RequiresGrad && p.IsLeaf));
    }

    [Fact]
    public void StateDictHasParametersAndPersistentBuffers()
    {
        var m = new Model(new Generator(1));
        var state = m.StateDict();
        Assert.Contains("blocks.0.mask", state.Keys);
        Assert.DoesNotContain("blocks.0.cache", state.Keys);
        Assert.Contains("head.weight", state.Keys);    // tied keys are both listed, as in PyTorch
        Assert.Equal(state["wte.weight"].ToArray(), state["head.weight"].ToArray());
    }

    [Fact]
    public void LoadStateDictCopiesIntoTheSameTensors()
    {
        var a = new Model(new Generator(1));
        var b = new Model(new Generator(2));
        var before = b.Blocks[0].Proj.Weight;
        b.LoadStateDict(a.StateDict());
        Assert.Same(before, b.Blocks[0].Proj.Weight);
        Assert.Equal(a.Blocks[0].Proj.Weight.ToArray(), b.Blocks[0].Proj.Weight.ToArray());
    }

    [Fact]
    public void LoadStateDictNamesMissingUnexpectedAndMismatchedKeys()
    {
        var m = new Model(new Generator(1));
        var state = m.StateDict();
        state.Remove("blocks.1.ln.bias");
        state["extra.weight"] = Tensor.Zeros(1);
        state["blocks.0.proj.weight"] = Tensor.Zeros(3, 3);
        var e = Assert.Throws<TensorShapeException>(() => m.LoadStateDict(state));
        Assert.Contains("blocks.1.ln.bias", e.Message);
        Assert.Contains("extra.weight", e.Message);
        Assert.Contains("blocks.0.proj.weight: checkpoint [3,3], model [4,4]", e.Message);
        state["blocks.0.proj.weight"] = Tensor.Zeros(4, 4);
        m.LoadStateDict(state, strict: false);
        Assert.All(m.Blocks[0].Proj.Weight.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TrainAndEvalReachEverySubmodule()
    {
        var m = new Model(new Generator(1));
        m.Eval();
        Assert.All(m.NamedModules(), x => Assert.False(x.Module.Training));
        m.Train();
        Assert.All(m.NamedModules(), x => Assert.True(x.Module.Training));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void InferenceScope_EvalsWithoutGradients_ThenRestoresTheModeItFound(bool training)
    {
        var m = new Model(new Generator(1));
        m.Train(training);
        using (m.Inference())
        {
            Assert.All(m.NamedModules(), x => Assert.False(x.Module.Training));
            Assert.False(Autograd.IsGradEnabled);
            Assert.False((m.Blocks[0].Proj.Weight * 2f).RequiresGrad);
        }
        Assert.All(m.NamedModules(), x => Assert.Equal(training, x.Module.Training));
        Assert.True(Autograd.IsGradEnabled);
        Assert.True((m.Blocks[0].Proj.Weight * 2f).RequiresGrad);
    }

    [Fact]
    public void LinearHasPyTorchsShapesAndInitBounds()
    {
        var layer = new Linear(16, 8, generator: new Generator(4));
        Check.Shape([8, 16], layer.Weight);
        Check.Shape([8], layer.Bias!);
        var bound = 1f / MathF.Sqrt(16);
        Assert.All(layer.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(layer.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        // U(-b, b) has variance b^2 / 3.
        var w = layer.Weight.ToArray();
        Assert.InRange(w.Select(v => v * v).Average(), bound * bound / 3 * 0.7, bound * bound / 3 * 1.3);
        var x = Tensor.FromArray(Check.Values(3 * 16, 2), 3, 16);
        var expected = x.MatMul(layer.Weight.T) + layer.Bias!;
        Assert.Equal(expected.ToArray(), layer.Forward(x).ToArray());
        Assert.Equal("Linear(in_features=16, out_features=8, bias=True)", layer.ToString());
    }

    [Fact]
    public void InitFunctionsFollowTheirFormulas()
    {
        var t = Tensor.Empty(200, 300);
        var (fanIn, fanOut) = Init.Fans(t);
        Assert.Equal((300, 200), (fanIn, fanOut));
        var bound = MathF.Sqrt(6f / 500f);
        Assert.All(Init.XavierUniform(t, generator: new Generator(1)).ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.InRange(Init.KaimingNormal(t, nonlinearity: "relu", generator: new Generator(2)).Var(0, correction: 0).Mean().Item(), 2f / 300 * 0.9f, 2f / 300 * 1.1f);
        Assert.InRange(Init.Normal(t, 1f, 0.02f, new Generator(3)).Mean().Item(), 0.999f, 1.001f);
        Assert.All(Init.Zeros(t).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(5f / 3f, Init.Gain("tanh"));
    }

    [Fact]
    public void SequentialDropoutEmbeddingNorms()
    {
        var g = new Generator(5);
        var net = new Sequential(new Linear(4, 8, generator: g), new Dropout(0.5f, g), new LayerNorm(8), new RMSNorm(8));
        Assert.Equal(5, net.NamedParameters().Count());   // Linear 2, LayerNorm 2, RMSNorm 1
        var x = Tensor.FromArray(Check.Values(8, 6), 2, 4);
        net.Eval();
        var a = net.Forward(x).ToArray();
        Assert.Equal(a, net.Forward(x).ToArray());   // no dropout in eval mode
        net.Train();
        Assert.NotEqual(a, net.Forward(x).ToArray());
        var emb = new Embedding(5, 3, g);
        Assert.Equal(emb.Weight.Select(0, 4).ToArray(), emb.Forward(Tensor.FromArray([4])).ToArray());
        Check.Shape([2, 2, 3], emb.Forward(Tensor.FromArray([0, 1, 2, 3], 2, 2)));
    }

    [Fact]
    public void ZeroGradClearsGradientsAndRecyclesTheirMemory()
    {
        var layer = new Linear(3, 2, generator: new Generator(1));
        layer.Forward(Tensor.Ones(1, 3)).Sum().Backward();
        var held = layer.Bias!.Grad!;   // read through the public getter: now the user may hold it
        layer.ZeroGrad();
        Assert.Null(layer.Weight.Grad);
        Assert.Equal(new float[] { 1, 1 }, held.ToArray());   // still readable: never recycled
    }
}
