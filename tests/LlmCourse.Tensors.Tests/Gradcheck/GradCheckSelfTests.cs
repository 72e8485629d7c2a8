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

    /// <summary>A NaN in any position fails Check.Close, not only in the last one (it must stay the worst difference).</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void CheckCloseRejectsNaNInAnyPosition(int position)
    {
        float[] expected = [1f, 2f, 3f];
        var actual = (float[])expected.Clone();
        actual[position] = float.NaN;
        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Core.Check.Close(expected, actual, 1e3f));
        Assert.Contains($"at [{position}]", e.Message);
        // and NaN expected where a number came out
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Core.Check.Close(actual, expected, 1e3f));
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void CheckCloseRejectsAnInfinityAgainstANumber_AcceptsTheSameInfinity(float infinity)
    {
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Core.Check.Close([infinity, 2f, 3f], [1f, 2f, 3f], 1e30f));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Core.Check.Close([1f, 2f, 3f], [1f, infinity, 3f], 1e30f));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Core.Check.Close([1f, 2f, -infinity], [1f, 2f, infinity], 1e30f));
        Core.Check.Close([1f, infinity, float.NaN], [1f, infinity, float.NaN], 0f);
    }
}
