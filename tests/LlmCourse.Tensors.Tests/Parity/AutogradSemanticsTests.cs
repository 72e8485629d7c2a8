namespace LlmCourse.Tensors.Tests.Parity;

/// <summary>
/// PyTorch's autograd rules: gradients accumulate over backward passes, only leaves keep them, NoGrad
/// records nothing, Detach cuts the graph, Backward(gradient) seeds a non-scalar root. The numeric cases
/// compare with engine_ops.safetensors; fan-out, shared subexpressions, detach and no_grad inside a
/// graph are op cases of their own (fanout, shared_subexpression, detach, no_grad_constant).
/// </summary>
[Trait("Category", "Parity")]
public sealed class AutogradSemanticsTests(ITestOutputHelper output)
{
    [Fact]
    public void TwoBackwardPassesAddUp()
    {
        var x = Fixtures.Copy(Fixtures.Get("ops", "accumulate/in/0")).WithGrad();
        var p0 = Fixtures.Get("ops", "accumulate/proj/0");
        var p1 = Fixtures.Get("ops", "accumulate/proj/1");
        (x * x * p0).Sum().Backward();
        (x.Exp() * p1).Sum().Backward();
        TensorAssert.Close("accumulated grad", x.Grad!, Fixtures.Get("ops", "accumulate/grad/0"), Tolerance.Elementwise, output);
    }

    [Fact]
    public void BackwardWithAGradientSeedsANonScalarRoot()
    {
        // tanh's fixture gradient is that of <tanh(x), proj>, i.e. tanh(x).Backward(proj).
        var x = Fixtures.Copy(Fixtures.Get("ops", "tanh/in/0")).WithGrad();
        x.Tanh().Backward(Fixtures.Copy(Fixtures.Get("ops", "tanh/proj/0")));
        TensorAssert.Close("tanh grad via Backward(proj)", x.Grad!, Fixtures.Get("ops", "tanh/grad/0"), Tolerance.Elementwise, output);
    }

    [Fact]
    public void OnlyLeavesKeepTheirGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).WithGrad();
        var y = x * 2f;
        (y * y).Sum().Backward();
        Assert.True(x.IsLeaf);
        Assert.False(y.IsLeaf);
        Assert.True(y.RequiresGrad);
        Assert.Null(y.Grad);
        Assert.Equal([8f, 16f, 24f], x.Grad!.ToArray());   // d/dx (2x)^2 = 8x
    }

    [Fact]
    public void NoGradRecordsNothingAndRestoresTheMode()
    {
        var x = Tensor.FromArray([1f, 2f]).WithGrad();
        Assert.True(Autograd.IsGradEnabled);
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsGradEnabled);
            using (Autograd.NoGrad()) Assert.False(Autograd.IsGradEnabled);
            Assert.False(Autograd.IsGradEnabled);   // the inner scope restores the outer one, not "enabled"
            var y = x * 3f;
            Assert.False(y.RequiresGrad);
            Assert.True(y.IsLeaf);
        }
        Assert.True(Autograd.IsGradEnabled);
        Assert.True((x * 3f).RequiresGrad);
    }

    [Fact]
    public void NoGradIsRestoredWhenTheBodyThrows()
    {
        try
        {
            using (Autograd.NoGrad()) throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException) { }
        Assert.True(Autograd.IsGradEnabled);
    }

    [Fact]
    public void DetachSharesValuesButNotTheGraph()
    {
        var x = Tensor.FromArray([1f, -2f, 3f]).WithGrad();
        var d = x.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.Equal(x.ToArray(), d.ToArray());
        (x * d).Sum().Backward();
        Assert.Equal([1f, -2f, 3f], x.Grad!.ToArray());   // d only scales: the gradient is d, not 2x
    }

    [Fact]
    public void ASecondBackwardNeedsTheRetainedGraph()
    {
        // PyTorch frees the graph after backward: a second pass raises unless retain_graph=True was
        // given the first time, and then the gradients add up.
        var x = Tensor.FromArray([1f, 2f]).WithGrad();
        var loss = (x * x).Sum();
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal([4f, 8f], x.Grad!.ToArray());
        Assert.ThrowsAny<InvalidOperationException>(() => loss.Backward());
    }

    [Fact]
    public void AGradientOnlyFlowsToTensorsThatRequireIt()
    {
        var a = Tensor.FromArray([1f, 2f]).WithGrad();
        var b = Tensor.FromArray([3f, 4f]);
        (a * b).Sum().Backward();
        Assert.Null(b.Grad);
        Assert.Equal([3f, 4f], a.Grad!.ToArray());
    }
}
