namespace LlmCourse.Tensors.Tests.Graph;

using LlmCourse.Tensors.Tests.Core;
using Grad = LlmCourse.Tensors.Autograd;

/// <summary>Autograd.DetectNonFinite names the op that first produced a NaN or an infinity (process-wide, so run alone).</summary>
[Collection(GlobalStateCollection.Name)]
public sealed class NonFiniteDetectionTests
{
    [Fact]
    public void NaNDetectionNamesTheForwardOp()
    {
        using var detect = Grad.DetectNonFiniteScope();
        var x = Tensor.FromArray([-1f, 1f]);
        var e = Assert.Throws<NonFiniteException>(() => x.Sqrt());
        Assert.Equal("Sqrt", e.Op);
        Assert.Equal("forward", e.Pass);
        // A mask filled with -inf is not an error, and softmax of it is finite.
        var masked = Tensor.Zeros(2, 2).MaskedFill(Tensor.FromArray([0f, 1f]), float.NegativeInfinity);
        Assert.All(masked.Softmax(-1).ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal("Log", Assert.Throws<NonFiniteException>(() => Tensor.Zeros(1).Log()).Op);
    }

    [Fact]
    public void NaNDetectionNamesTheBackwardOp()
    {
        var x = Tensor.FromArray([0f, 4f]).WithGrad();
        var y = x.Sqrt().Sum();   // forward is finite; d sqrt(x)/dx at 0 is infinite
        using var detect = Grad.DetectNonFiniteScope();
        var e = Assert.Throws<NonFiniteException>(() => y.Backward());
        Assert.Equal("SqrtBackward", e.Op);
        Assert.Equal("backward", e.Pass);
    }
}
