using LlmCourse.Tensors.Backends;
using LlmCourse.Tensors.Backends.Cpu;

namespace LlmCourse.Tensors.Tests.Ops;

/// <summary>The float exp against double precision: at most 2 ulp over the whole normal range.</summary>
public sealed class FastExpTests
{
    static double Ulps(float got, double exact) => Math.Abs(got - exact) / (MathF.BitIncrement((float)exact) - (float)exact);

    [Fact]
    public void WithinTwoUlpsOfTheTrueValue()
    {
        const int n = 200_003;
        var x = new float[n];
        for (var i = 0; i < n; i++) x[i] = -87.3f + (88.7f + 87.3f) * i / (n - 1);
        var y = new float[n];
        FastExp.ExpSum(x, 0f, y);
        double worst = 0;
        var at = 0;
        for (var i = 0; i < n; i++)
        {
            var u = Ulps(y[i], Math.Exp(x[i]));
            if (u > worst) (worst, at) = (u, i);
        }
        Assert.True(worst <= 2.0, $"worst {worst:F2} ulp at x = {x[at]}: {y[at]} vs {Math.Exp(x[at])}");
    }

    [Fact]
    public void VectorAndScalarPathsAgreeBitForBit()
    {
        var x = LlmCourse.Tensors.Tests.Core.Check.Values(1000, 8, 20f);
        var y = new float[1000];
        FastExp.ExpSum(x, 0.5f, y);
        for (var i = 0; i < x.Length; i++) Assert.Equal(FastExp.Exp(x[i] - 0.5f), y[i]);
    }

    [Fact]
    public void EdgesUnderflowOverflowAndNaN()
    {
        float[] x = [-1000f, -88f, 0f, 89f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f];
        var y = new float[x.Length];
        FastExp.ExpSum(x, 0f, y);
        Assert.Equal(0f, y[0]);
        Assert.InRange(y[1], 6.0e-39f, 6.1e-39f);   // subnormal, like PyTorch
        Assert.Equal(1f, y[2]);
        Assert.Equal(float.PositiveInfinity, y[3]);
        Assert.Equal(float.PositiveInfinity, y[4]);
        Assert.Equal(0f, y[5]);
        Assert.True(float.IsNaN(y[6]));
        Assert.True(float.IsNaN(FastExp.Exp(float.NaN)));
    }
}
