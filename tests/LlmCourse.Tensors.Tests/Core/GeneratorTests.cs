using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cpu;

namespace LlmCourse.Tensors.Tests.Core;

public sealed class GeneratorTests
{
    [Fact]
    public void SameSeedSameBitsDifferentSeedDifferentBits()
    {
        var a = Tensor.Randn([1000], new Generator(42)).ToArray();
        var b = Tensor.Randn([1000], new Generator(42)).ToArray();
        var c = Tensor.Randn([1000], new Generator(43)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }


    [Fact]
    public void DistributionsHaveTheRightMoments()
    {
        var g = new Generator(1);
        var n = Tensor.Randn([200_000], g);
        Assert.InRange(n.Mean().Item(), -0.01f, 0.01f);
        Assert.InRange(n.Var(0).Item(), 0.98f, 1.02f);
        var u = Tensor.Rand([200_000], g).ToArray();
        Assert.All(u, v => Assert.InRange(v, 0f, 0.99999995f));
        Assert.InRange(u.Average(), 0.495, 0.505);
        var ints = Tensor.RandInt(3, 7, [10_000], g).ToInt32Array();
        Assert.All(ints, v => Assert.InRange(v, 3, 6));
        Assert.Equal(4, ints.Distinct().Count());
    }

    [Fact]
    public void MultinomialFollowsTheWeights()
    {
        var g = new Generator(3);
        var probs = Tensor.FromArray([0.1f, 0.0f, 0.6f, 0.3f]);
        var draws = Functional.Multinomial(probs, 20_000, g, replacement: true).ToInt32Array();
        Assert.DoesNotContain(1, draws);
        Assert.InRange(draws.Count(d => d == 2) / 20_000.0, 0.58, 0.62);
        var unique = Functional.Multinomial(probs, 3, g).ToInt32Array();
        Assert.Equal(3, unique.Distinct().Count());
        Assert.Throws<TensorShapeException>(() => Functional.Multinomial(probs, 4, g));
        var rows = Functional.Multinomial(Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2), 1, g);
        Assert.Equal(new[] { 0, 1 }, rows.ToInt32Array());
    }

    [Fact]
    public void DropoutKeepsTheExpectationAndIsSeeded()
    {
        var x = Tensor.Ones(100_000);
        var y = Functional.Dropout(x, 0.25f, training: true, new Generator(5));
        var v = y.ToArray();
        Assert.All(v, e => Assert.True(e == 0f || Math.Abs(e - 4f / 3f) < 1e-6f));
        Assert.InRange(v.Average(), 0.99, 1.01);
        Assert.Equal(v, Functional.Dropout(x, 0.25f, true, new Generator(5)).ToArray());
        Assert.Same(x, Functional.Dropout(x, 0.25f, training: false));
    }
}

/// <summary>Tests of process-wide generator and threading state.</summary>
[Collection(GlobalStateCollection.Name)]
public sealed class GlobalGeneratorTests
{
    [Fact]
    public void ManualSeedResetsTheDefaultGenerator()
    {
        Tensor.ManualSeed(7);
        var a = Tensor.Rand(10).ToArray();
        Tensor.ManualSeed(7);
        Assert.Equal(a, Tensor.Rand(10).ToArray());
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var x = Tensor.Randn([300, 700], new Generator(9));
        var w = Tensor.Randn([700], new Generator(10));
        float[] Run()
        {
            var h = (x * w).Gelu().Softmax(-1);
            return Tensor.Cat([h.Sum(0), Functional.LayerNorm(x, [700]).Reshape(-1)]).ToArray();
        }
        var saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = 1;
            var one = Run();
            CpuParallel.Threads = 2;
            var two = Run();
            var twoAgain = Run();
            Assert.Equal(one, two);
            Assert.Equal(two, twoAgain);
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }
}
