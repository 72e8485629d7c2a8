namespace LlmCourse.Tensors.Tests.Graph;

using LlmCourse.Tensors.Tests.Core;
using Grad = LlmCourse.Tensors.Autograd;

/// <summary>PyTorch's autograd semantics, each checked on a small hand-differentiated example.</summary>
public sealed class AutogradTests
{
    [Fact]
    public void ChainRuleOnAScalarExpression()
    {
        // f = sum(x * y + x^2) → df/dx = y + 2x, df/dy = x
        var x = Tensor.FromArray([1f, -2f, 3f]).WithGrad();
        var y = Tensor.FromArray([4f, 5f, -6f]).WithGrad();
        (x * y + x * x).Sum().Backward();
        Assert.Equal(new float[] { 6, 1, 0 }, x.Grad!.ToArray());
        Assert.Equal(new float[] { 1, -2, 3 }, y.Grad!.ToArray());
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var x = Tensor.FromArray([2f]).WithGrad();
        (x * 3f).Sum().Backward();
        (x * x).Sum().Backward();
        Assert.Equal(3f + 4f, x.Grad!.Item());
    }

    [Fact]
    public void AReusedTensorSumsItsGradientsFromEveryUse()
    {
        var x = Tensor.FromArray([1f, 2f]).WithGrad();
        var h = x.Exp();
        (h + h * 2f + h.Sum()).Sum().Backward();   // d/dx = e^x (1 + 2 + 2)
        Check.Close([5 * MathF.E, 5 * MathF.Exp(2)], x.Grad!, 1e-5f);
    }

    [Fact]
    public void BroadcastGradientsAreSummedBack()
    {
        var bias = Tensor.Zeros(3).WithGrad();
        var x = Tensor.Ones(4, 3);
        (x + bias).Sum().Backward();
        Assert.Equal(new float[] { 4, 4, 4 }, bias.Grad!.ToArray());
        var col = Tensor.Ones(4, 1).WithGrad();
        (x * col).Sum().Backward();
        Assert.Equal(new float[] { 3, 3, 3, 3 }, col.Grad!.ToArray());
    }

    [Fact]
    public void ViewsPassGradientsToTheRightElements()
    {
        var x = Tensor.Arange(0f, 6f).Reshape(2, 3).WithGrad();
        (x.T.Select(0, 2) * 10f + x.Slice(1, 0, 3, 2).Sum()).Sum().Backward();
        // Select(0,2) of x.T is column 2 → elements 2 and 5 get 10; the slice takes columns 0 and 2,
        // whose sum is added to both outputs (2 of them) → 2 each.
        Assert.Equal(new float[] { 2, 0, 12, 2, 0, 12 }, x.Grad!.ToArray());
    }

    [Fact]
    public void NoGradRecordsNothing()
    {
        var x = Tensor.Ones(2).WithGrad();
        Tensor y;
        using (Grad.NoGrad())
        {
            Assert.False(Grad.IsGradEnabled);
            y = x * 2f;
        }
        Assert.True(Grad.IsGradEnabled);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFnName);
        Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
    }

    [Fact]
    public void DetachCutsTheGraph()
    {
        var x = Tensor.FromArray([3f]).WithGrad();
        var y = x * x;
        (y.Detach() * x).Sum().Backward();
        Assert.Equal(9f, x.Grad!.Item());   // y treated as the constant 9
        Assert.True(y.Detach().IsLeaf);
    }

    [Fact]
    public void NonLeafGradientsAreNotKept()
    {
        var x = Tensor.Ones(2).WithGrad();
        var h = x * 2f;
        h.Sum().Backward();
        Assert.Null(h.Grad);
        Assert.False(h.IsLeaf);
        Assert.Equal("MulBackward", h.GradFnName);
    }

    [Fact]
    public void BackwardTwiceThroughAFreedGraphThrows()
    {
        var x = Tensor.FromArray([1f, 2f]).WithGrad();
        var y = (x * x).Sum();
        y.Backward();
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("second time", e.Message);
        var z = (x.Exp()).Sum();
        z.Backward(retainGraph: true);
        z.Backward();
        Check.Close([2 + 2 * MathF.E, 4 + 2 * MathF.Exp(2)], x.Grad!, 1e-5f);
    }

    [Fact]
    public void NonScalarRootNeedsAGradient()
    {
        var x = Tensor.Ones(2, 3).WithGrad();
        var y = x * 2f;
        var e = Assert.Throws<TensorShapeException>(() => y.Backward());
        Assert.Contains("[2,3]", e.Message);
        y.Backward(Tensor.Full([2, 3], 0.5f));
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void OnlyLeavesCanChangeRequiresGradAndOnlyFloats()
    {
        var x = Tensor.Ones(2).WithGrad();
        Assert.Throws<InvalidOperationException>(() => (x * 2f).RequiresGrad = false);
        Assert.Throws<TensorShapeException>(() => Tensor.FromArray([1, 2]).RequiresGrad = true);
    }

    [Fact]
    public void DeepChainsDoNotOverflowTheStack()
    {
        var x = Tensor.FromArray([1f]).WithGrad();
        var h = x;
        for (var i = 0; i < 20_000; i++) h = h * 1f;
        h.Sum().Backward();
        Assert.Equal(1f, x.Grad!.Item());
    }

    [Fact]
    public void LeafGradientsNeverShareMemory()
    {
        // One upstream gradient reaches both leaves (and one leaf twice): each must get its own buffer.
        var a = Tensor.FromArray([1f, 2f]).WithGrad();
        var b = Tensor.FromArray([3f, 4f]).WithGrad();
        (a + b + a).Sum().Backward();
        Assert.NotSame(a.Grad!.Storage, b.Grad!.Storage);
        Assert.Equal(new float[] { 2, 2 }, a.Grad!.ToArray());
        Assert.Equal(new float[] { 1, 1 }, b.Grad!.ToArray());
        (a * 3f).Sum().Backward();   // accumulates into a's buffer only
        Assert.Equal(new float[] { 5, 5 }, a.Grad!.ToArray());
        Assert.Equal(new float[] { 1, 1 }, b.Grad!.ToArray());
    }

    [Fact]
    public void AStolenGradientOutlivesTheBackwardScope()
    {
        // The gradient of exp is a fresh buffer nothing else views: it becomes x.Grad without a copy
        // and must survive the pool recycling the pass's other temporaries.
        var x = Tensor.FromArray(Check.Values(5000, 2)).WithGrad();
        using (TensorScope.Begin()) x.Exp().Backward(Tensor.Ones(5000));
        using (TensorScope.Begin()) _ = Tensor.Zeros(5000) + 1f;   // reuses recycled buffers
        Assert.Equal(x.Detach().Exp().ToArray(), x.Grad!.ToArray());   // d exp = exp, times ones
    }
}
