namespace LlmCourse.Tensors.Tests.Core;

/// <summary>NumPy broadcasting, checked element by element against index arithmetic.</summary>
public sealed class BroadcastTests
{
    [Fact]
    public void RowAndColumnVectorsBroadcastToAMatrix()
    {
        var row = Tensor.FromArray([1f, 2f, 3f]);              // [3]
        var col = Tensor.FromArray([10f, 20f], 2, 1);           // [2, 1]
        var sum = col + row;
        Check.Shape([2, 3], sum);
        Assert.Equal(new float[] { 11, 12, 13, 21, 22, 23 }, sum.ToArray());
        Assert.Equal(new float[] { 9, 6, 1, 19, 16, 11 }, (col - row * row).ToArray());
    }

    [Fact]
    public void EveryBinaryOpMatchesScalarMathUnderBroadcasting()
    {
        var a = Tensor.FromArray(Check.Values(24, 1), 2, 3, 4);
        var b = Tensor.FromArray(Check.Values(4, 2).Select(v => MathF.Abs(v) + 0.5f).ToArray(), 4);
        var av = a.ToArray();
        var bv = b.ToArray();
        (Func<Tensor, Tensor, Tensor> Op, Func<float, float, float> Reference)[] cases =
        [
            ((x, y) => x + y, (x, y) => x + y),
            ((x, y) => x - y, (x, y) => x - y),
            ((x, y) => x * y, (x, y) => x * y),
            ((x, y) => x / y, (x, y) => x / y),
            (Tensor.Maximum, MathF.Max),
            (Tensor.Minimum, MathF.Min),
        ];
        foreach (var (op, reference) in cases)
        {
            var result = op(a, b).ToArray();
            for (var i = 0; i < 24; i++) Assert.Equal(reference(av[i], bv[i % 4]), result[i]);
            var flipped = op(b, a).ToArray();
            for (var i = 0; i < 24; i++) Assert.Equal(reference(bv[i % 4], av[i]), flipped[i]);
        }
    }

    [Fact]
    public void StridedOperandsBroadcastToo()
    {
        var x = Tensor.Arange(0f, 12f).Reshape(3, 4).T;        // [4, 3], strides [1, 4]
        var y = Tensor.FromArray([100f, 200f, 300f]);
        var r = (x + y).ToArray();
        var xv = x.ToArray();
        for (var i = 0; i < 12; i++) Assert.Equal(xv[i] + (i % 3 + 1) * 100f, r[i]);
    }

    [Fact]
    public void ScalarOperandsOnBothSides()
    {
        var x = Tensor.FromArray([1f, 2f, 4f]);
        Assert.Equal(new float[] { 3, 4, 6 }, (x + 2f).ToArray());
        Assert.Equal(new float[] { 1, 0, -2 }, (2f - x).ToArray());
        Assert.Equal(new float[] { 2, 1, 0.5f }, (2f / x).ToArray());
        Assert.Equal(new float[] { -1, -2, -4 }, (-x).ToArray());
    }

    [Fact]
    public void IncompatibleShapesNameOpAndShapes()
    {
        var e = Assert.Throws<TensorShapeException>(() => Tensor.Zeros(2, 3) + Tensor.Zeros(4));
        Assert.Equal("Add: shapes [2,3] and [4] cannot broadcast", e.Message);
    }

    [Fact]
    public void WhereAndMaskedFillBroadcastTheMask()
    {
        var x = Tensor.Arange(0f, 6f).Reshape(2, 3);
        var mask = Tensor.FromArray([1f, 0f, 1f]);
        Assert.Equal(new float[] { -1, 1, -1, -1, 4, -1 }, x.MaskedFill(mask, -1f).ToArray());
        var w = Tensor.Where(x.Gt(2f), x, Tensor.Scalar(0f));
        Assert.Equal(new float[] { 0, 0, 0, 3, 4, 5 }, w.ToArray());
        Assert.Equal(new float[] { 0, 0, 1, 1, 1, 1 }, x.Ge(2f).ToArray());
        Assert.Equal(new float[] { 1, 0, 0 }, Tensor.FromArray([3, 4, 5]).Eq(Tensor.FromArray([3, 0, 0])).ToArray());
    }

    [Fact]
    public void MathOnInt32IsRefusedWithAHint()
    {
        var e = Assert.Throws<TensorShapeException>(() => Tensor.FromArray([1, 2]).Exp());
        Assert.Contains("Int32", e.Message);
        Assert.Contains("To(DType.Float32)", e.Message);
    }

    [Fact]
    public void TrilAndTriuSelectRatherThanMultiply()
    {
        var x = Tensor.Full([3, 3], float.NegativeInfinity);
        Assert.Equal(new[] { float.NegativeInfinity, 0, 0, float.NegativeInfinity, float.NegativeInfinity, 0, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity },
            x.Tril().ToArray());
        Assert.Equal(new float[] { 0, 1, 1, 0, 0, 1, 0, 0, 0 }, Tensor.Ones(3, 3).Triu(1).ToArray());
        var w = Tensor.Ones(2, 2).WithGrad();
        w.Tril().Sum().Backward();
        Assert.Equal(new float[] { 1, 0, 1, 1 }, w.Grad!.ToArray());
    }

    [Fact]
    public void VectorisedComparisonsAndWhereMatchScalarLogic()
    {
        var x = Tensor.FromArray(Check.Values(5 * 37, 3), 5, 37);
        var row = Tensor.FromArray(Check.Values(37, 4));
        var col = Tensor.FromArray(Check.Values(5, 5), 5, 1);
        var (xv, rv, cv) = (x.ToArray(), row.ToArray(), col.ToArray());
        var gt = x.Gt(row).ToArray();
        var le = x.Le(col).ToArray();
        var pick = Tensor.Where(x.Gt(row), x, col).ToArray();
        var filled = x.MaskedFill(row.Lt(0f), -7f).ToArray();
        for (var i = 0; i < 5; i++)
            for (var j = 0; j < 37; j++)
            {
                var k = i * 37 + j;
                Assert.Equal(xv[k] > rv[j] ? 1f : 0f, gt[k]);
                Assert.Equal(xv[k] <= cv[i] ? 1f : 0f, le[k]);
                Assert.Equal(xv[k] > rv[j] ? xv[k] : cv[i], pick[k]);
                Assert.Equal(rv[j] < 0f ? -7f : xv[k], filled[k]);
            }
        Assert.Equal(new float[] { 1, 1 }, Tensor.FromArray([float.NaN, 2f]).Ne(Tensor.FromArray([float.NaN, 3f])).ToArray());
    }
}
