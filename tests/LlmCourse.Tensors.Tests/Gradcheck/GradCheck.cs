using LlmCourse.Tensors.Tests.Parity;

namespace LlmCourse.Tensors.Tests.Gradcheck;

/// <summary>
/// Checks the engine's backward against finite differences of its own forward, with no reference to PyTorch.
///
/// The scalar is L(x) = Σ_k &lt;f(x)_k, proj_k&gt; with random projections, so every output element counts
/// with its own weight. Forward passes run in float32 (the engine has nothing else), but L is summed in
/// double from the float32 outputs: outputs a perturbation does not touch then cancel exactly between the
/// two sides, and only the touched ones carry rounding noise (≈ 6e-8 relative each).
///
/// Step: central differences D(h) = (L(x+h) - L(x-h)) / (x+h - x-h), using the float32 values actually
/// stored (so the step is exact), combined by Richardson extrapolation R = (4·D(h/2) - D(h)) / 3, whose
/// error is O(h⁴). That lets h be large, 1e-2, which divides the float32 rounding noise by 100 instead of
/// by 1e-4 with a tiny step: noise ≈ 1.7 · n · 6e-8 / 5e-3 ≈ 2e-5·n for n touched outputs of order 1,
/// truncation ≈ h⁴·|f⁽⁵⁾| / 480 ≈ 2e-11·|f⁽⁵⁾|. The fixtures keep inputs at least 0.1 from kinks (relu,
/// abs, clamp) and 0.05 apart where order matters (max, top-k), so no step crosses one.
///
/// Tolerance: |numeric - analytic| &lt;= 2e-3 · max(1, max|analytic|) + 1e-2 · |numeric|. A wrong
/// gradient (a missing factor, a sign, a wrong broadcast reduction, a dropped term) is off by order 1.
/// Inputs with more than <see cref="MaxCoordinates"/> elements are checked on a fixed random sample.
/// </summary>
public static class GradCheck
{
    public const double Step = 1e-2;
    public const double Atol = 2e-3;
    public const double Rtol = 1e-2;
    public const int MaxCoordinates = 24;

    public static void Check(string what, Func<Tensor[], Tensor[]> f, Tensor[] inputs, bool[] differentiable,
        Tensor?[] projections, ITestOutputHelper? output = null)
    {
        // Analytic: one backward pass through the engine.
        var leaves = inputs.Select(Fixtures.Copy).ToArray();
        for (var i = 0; i < leaves.Length; i++) leaves[i].RequiresGrad = differentiable[i];
        var loss = OpRun.Loss(f(leaves), projections)
                   ?? throw new InvalidOperationException($"{what}: no differentiable output");
        loss.Backward();

        for (var i = 0; i < inputs.Length; i++)
        {
            if (!differentiable[i]) continue;
            var analytic = leaves[i].Grad?.ToArray()
                           ?? throw new Xunit.Sdk.XunitException($"{what}: no gradient reached input {i}");
            var values = inputs[i].ToArray();
            var coordinates = Coordinates(values.Length, seed: i);
            var numeric = new double[coordinates.Length];
            var picked = new double[coordinates.Length];
            for (var c = 0; c < coordinates.Length; c++)
            {
                var j = coordinates[c];
                var d1 = Difference(f, inputs, projections, i, values, j, Step);
                var d2 = Difference(f, inputs, projections, i, values, j, Step / 2);
                numeric[c] = (4 * d2 - d1) / 3;
                picked[c] = analytic[j];
            }
            var scale = Math.Max(1, analytic.Max(v => Math.Abs((double)v)));
            TensorAssert.Close($"{what} grad {i} vs finite differences ({coordinates.Length} of {values.Length} elements)",
                picked, numeric, [coordinates.Length], new Tolerance(Atol * scale, Rtol), output);
        }
    }

    /// <summary>Central difference of L along element j of input i, with the step the float32 values really took.</summary>
    static double Difference(Func<Tensor[], Tensor[]> f, Tensor[] inputs, Tensor?[] projections, int i,
        float[] values, int j, double h)
    {
        var plus = (float)(values[j] + h);
        var minus = (float)(values[j] - h);
        return (Evaluate(f, inputs, projections, i, values, j, plus) - Evaluate(f, inputs, projections, i, values, j, minus))
               / ((double)plus - minus);
    }

    static double Evaluate(Func<Tensor[], Tensor[]> f, Tensor[] inputs, Tensor?[] projections, int i,
        float[] values, int j, float value)
    {
        var moved = (float[])values.Clone();
        moved[j] = value;
        var args = inputs.Select(Fixtures.Copy).ToArray();
        args[i] = inputs[i].Rank == 0 ? Tensor.Scalar(moved[0]) : Tensor.FromArray(moved, inputs[i].Shape);
        using (Autograd.NoGrad())
            return OpRun.LossValue(f(args), projections);
    }

    static int[] Coordinates(int count, int seed)
    {
        if (count <= MaxCoordinates) return Enumerable.Range(0, count).ToArray();
        var random = new Random(1234 + seed);
        return Enumerable.Range(0, count).OrderBy(_ => random.Next()).Take(MaxCoordinates).Order().ToArray();
    }
}
