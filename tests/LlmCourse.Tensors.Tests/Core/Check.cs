using System.Globalization;

namespace LlmCourse.Tensors.Tests.Core;

/// <summary>Assertions that report the largest difference and the tolerance used.</summary>
public static class Check
{
    public static void Close(float[] expected, Tensor actual, float tolerance = 1e-6f, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Count);
        Close(expected, actual.ToArray(), tolerance, what);
    }

    public static void Close(float[] expected, float[] actual, float tolerance = 1e-6f, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Length);
        // NaN against a number (or an infinity against a finite value) counts as an infinite difference,
        // so it stays the worst wherever it is; NaN against NaN and equal infinities count as equal.
        double worst = 0;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var diff = expected[i].Equals(actual[i]) ? 0 : Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(diff)) diff = double.PositiveInfinity;
            if (diff > worst) { worst = diff; at = i; }
        }
        Assert.True(worst <= tolerance,
            string.Create(CultureInfo.InvariantCulture,
                $"{what}: largest difference {worst:G4} at [{at}] (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}), tolerance {tolerance:G4}"));
    }

    public static void Shape(int[] expected, Tensor t) =>
        Assert.True(expected.AsSpan().SequenceEqual(t.Shape), $"shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", expected)}]");

    /// <summary>Central finite differences of a scalar function, in double where the tensor allows (float32 inputs).</summary>
    public static float[] NumericGradient(Func<Tensor, Tensor> f, float[] x, int[] shape, float eps = 1e-2f)
    {
        var grad = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            var plus = (float[])x.Clone();
            var minus = (float[])x.Clone();
            plus[i] += eps;
            minus[i] -= eps;
            double fp, fm;
            using (Autograd.NoGrad())
            {
                fp = f(Tensor.FromArray(plus, shape)).Item();
                fm = f(Tensor.FromArray(minus, shape)).Item();
            }
            grad[i] = (float)((fp - fm) / (2 * eps));
        }
        return grad;
    }

    /// <summary>Analytic gradient of a scalar function at x, by Backward.</summary>
    public static float[] AnalyticGradient(Func<Tensor, Tensor> f, float[] x, int[] shape)
    {
        var t = Tensor.FromArray(x, shape).WithGrad();
        f(t).Backward();
        return t.Grad!.ToArray();
    }

    /// <summary>Checks Backward against central differences (float32: tolerance ~1e-2 relative to the scale).</summary>
    public static void Gradient(Func<Tensor, Tensor> f, float[] x, int[] shape, float tolerance = 2e-2f, float eps = 1e-2f)
    {
        var analytic = AnalyticGradient(f, x, shape);
        var numeric = NumericGradient(f, x, shape, eps);
        Close(numeric, analytic, tolerance, "gradient (finite differences vs backward)");
    }

    public static float[] Values(int n, int seed = 1, float scale = 1f)
    {
        var g = new Generator((ulong)seed);
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = scale * g.NextGaussian();
        return v;
    }
}
