namespace LlmCourse.Tensors.Tests.Ops;

using LlmCourse.Tensors.Tests.Core;

public sealed class ReductionTests
{
    static Tensor Range(params int[] shape) => Tensor.Arange(0f, Shapes.Count(shape)).Reshape(shape);

    [Fact]
    public void SumAlongEachDimWithAndWithoutKeepDim()
    {
        var x = Range(2, 3, 4);
        Assert.Equal(276f, x.Sum().Item());
        var s0 = x.Sum(0);
        Check.Shape([3, 4], s0);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)(i + i + 12)).ToArray(), s0.ToArray());
        var s1 = x.Sum(1, keepDim: true);
        Check.Shape([2, 1, 4], s1);
        Assert.Equal(new float[] { 12, 15, 18, 21, 48, 51, 54, 57 }, s1.ToArray());
        var s2 = x.Sum(-1);
        Assert.Equal(new float[] { 6, 22, 38, 54, 70, 86 }, s2.ToArray());
        var s02 = x.Sum([0, 2]);   // non-adjacent dims
        Assert.Equal(new float[] { 6 + 54, 22 + 70, 38 + 86 }, s02.ToArray());
    }

    [Fact]
    public void MeanVarStd()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 10f, 20f, 30f, 40f], 2, 4);
        Assert.Equal(new float[] { 2.5f, 25f }, x.Mean(1).ToArray());
        Assert.Equal(13.75f, x.Mean().Item());
        // unbiased: sum of squared deviations / (n - 1)
        Check.Close([5f / 3f, 500f / 3f], x.Var(1), 1e-4f);
        Check.Close([1.25f, 125f], x.Var(1, correction: 0), 1e-4f);
        Check.Close([MathF.Sqrt(5f / 3f), MathF.Sqrt(500f / 3f)], x.Std(1), 1e-5f);
    }

    [Fact]
    public void MaxMinReturnValuesAndFirstIndices()
    {
        var x = Tensor.FromArray([3f, 7f, 7f, 1f, -2f, 5f, 5f, 0f], 2, 4);
        var (values, indices) = x.Max(1);
        Assert.Equal(new float[] { 7, 5 }, values.ToArray());
        Assert.Equal(new[] { 1, 1 }, indices.ToInt32Array());
        Assert.Equal(DType.Int32, indices.DType);
        var (mv, mi) = x.Min(0, keepDim: true);
        Check.Shape([1, 4], mv);
        Assert.Equal(new float[] { -2, 5, 5, 0 }, mv.ToArray());
        Assert.Equal(new[] { 1, 1, 1, 1 }, mi.ToInt32Array());
        Assert.Equal(new[] { 1, 1 }, x.ArgMax(1).ToInt32Array());
        Assert.Equal(7f, x.Max().Item());
        Assert.Equal(1, x.ArgMax().ToInt32Array()[0]);
    }

    [Fact]
    public void MaxGradientGoesToTheArgMax()
    {
        var x = Tensor.FromArray([1f, 5f, 2f, 9f, 3f, 4f], 2, 3).WithGrad();
        x.Max(1).Values.Sum().Backward();
        Assert.Equal(new float[] { 0, 1, 0, 1, 0, 0 }, x.Grad!.ToArray());
        var y = Tensor.FromArray([2f, 2f, 1f]).WithGrad();
        y.Max().Backward(); // ties share: PyTorch's evenly-distributed gradient
        Assert.Equal(new float[] { 0.5f, 0.5f, 0 }, y.Grad!.ToArray());
    }

    [Fact]
    public void MaxAndTopKOfAScalarPassTheGradientThrough()
    {
        // A 0-d input gathers through a 0-d index; its gradient scatters back through it (PyTorch: d/dx max(x) = 1).
        var x = Tensor.Scalar(2.5f).WithGrad();
        (x.Max(0).Values * 3f).Backward();
        Assert.Equal(new[] { 3f }, x.Grad!.ToArray());
        var y = Tensor.Scalar(-1f).WithGrad();
        (y.TopK(1).Values * 5f).Backward();
        Assert.Equal(new[] { 5f }, y.Grad!.ToArray());
    }

    [Fact]
    public void NaNPropagatesThroughMax()
    {
        var x = Tensor.FromArray([1f, float.NaN, 3f]);
        Assert.True(float.IsNaN(x.Max().Item()));
        Assert.Equal(1, x.Max(0).Indices.ToInt32Array()[0]);
    }

    [Fact]
    public void TopKIsSortedWithIndices()
    {
        var x = Tensor.FromArray([0.1f, 0.9f, 0.3f, 0.7f, 0.5f, 0.2f, 0.8f, 0.4f], 2, 4);
        var (v, i) = x.TopK(2);
        Assert.Equal(new float[] { 0.9f, 0.7f, 0.8f, 0.5f }, v.ToArray());
        Assert.Equal(new[] { 1, 3, 2, 0 }, i.ToInt32Array());
        var (sv, si) = x.TopK(1, dim: 0, largest: false);
        Assert.Equal(new float[] { 0.1f, 0.2f, 0.3f, 0.4f }, sv.ToArray());
        Assert.Equal(new[] { 0, 1, 0, 1 }, si.ToInt32Array());
    }

    [Fact]
    public void CumSumAndItsGradient()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3).WithGrad();
        Assert.Equal(new float[] { 1, 3, 6, 4, 9, 15 }, x.CumSum(1).ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 5, 7, 9 }, x.CumSum(0).ToArray());
        (x.CumSum(1) * Tensor.FromArray([1f, 10f, 100f])).Sum().Backward();
        // d/dx_j of sum_i w_i cumsum_i = sum_{i >= j} w_i
        Assert.Equal(new float[] { 111, 110, 100, 111, 110, 100 }, x.Grad!.ToArray());
    }

    [Fact]
    public void LogSumExpIsStable()
    {
        var x = Tensor.FromArray([1000f, 1000f, -1000f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity], 2, 3);
        var l = x.LogSumExp(1).ToArray();
        Assert.Equal(1000f + MathF.Log(2f), l[0], 3);
        Assert.Equal(float.NegativeInfinity, l[1]);
        Check.Close([MathF.Sqrt(30f)], Tensor.FromArray([1f, 2f, 3f, 4f]).Norm().ToArray(), 1e-6f);
    }

    [Theory]
    [InlineData(5, true)]
    [InlineData(5, false)]
    [InlineData(100, true)]
    public void TopKAgreesWithAStableSortIncludingTies(int k, bool largest)
    {
        // Values on a coarse grid so ties are common; ties keep the lower index first.
        var g = new Generator(13);
        var values = Enumerable.Range(0, 3 * 300).Select(_ => (float)g.NextInt(20)).ToArray();
        values[7] = float.NaN;
        var x = Tensor.FromArray(values, 3, 300);
        var (v, i) = x.TopK(k, largest: largest);
        var gotIds = i.ToInt32Array();
        for (var r = 0; r < 3; r++)
        {
            var row = values.Skip(r * 300).Take(300).ToArray();
            var expected = Enumerable.Range(0, 300)
                .OrderBy(j => float.IsNaN(row[j]) ? (largest ? 0 : 1) : (largest ? 1 : 0))   // NaN ranks as the largest
                .ThenBy(j => largest ? -row[j] : row[j]).ThenBy(j => j).Take(k).ToArray();
            Assert.Equal(expected, gotIds.Skip(r * k).Take(k).ToArray());
        }
    }
}
