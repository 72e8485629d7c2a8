using LlmCourse.Tensors.Tests.Parity;

namespace LlmCourse.Tensors.Tests.Gradcheck;

/// <summary>The checkers themselves can fail: a wrong gradient, a wrong value, a wrong shape, NaN where a number is due.</summary>
public sealed class GradCheckSelfTests
{
    static readonly Tensor X = Tensor.FromArray([0.5f, -1.25f, 2f, 0.75f], 2, 2);
    static readonly Tensor?[] Proj = [Tensor.FromArray([1f, -0.5f, 0.25f, 2f], 2, 2)];

    [Fact]
    public void AcceptsACorrectGradient() =>
        GradCheck.Check("x*x", x => [x[0] * x[0]], [X], [true], Proj);

    [Fact]
    public void RejectsAGradientThatIsHalfTheTruth() =>
        // x * detach(x): the engine's gradient is x, the numeric derivative 2x.
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            GradCheck.Check("x*detach(x)", x => [x[0] * x[0].Detach()], [X], [true], Proj));

    [Fact]
    public void TensorAssertRejectsADifferenceAboveTheTolerance() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            TensorAssert.Close("x", X + 2e-5f, X, Tolerance.Reduction));

    [Fact]
    public void TensorAssertRejectsAShapeMismatch() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => TensorAssert.Close("x", X.Reshape(4), X, Tolerance.Exact));

    [Fact]
    public void TensorAssertMatchesNaNOnlyWithNaN()
    {
        TensorAssert.Close("nan", [double.NaN, 1], [double.NaN, 1], [2], Tolerance.Exact);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            TensorAssert.Close("nan", [double.NaN], [0], [1], new Tolerance(1e9, 1e9)));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() =>
            TensorAssert.Close("inf", [double.PositiveInfinity], [double.NegativeInfinity], [1], new Tolerance(1e9, 1e9)));
    }
}
