namespace LlmCourse.Tensors.Tests.Core;

/// <summary>Views share storage and get strides right; the values are checked against row-major index arithmetic.</summary>
public sealed class ViewTests
{
    static Tensor Range(params int[] shape) => Tensor.Arange(0f, Shapes.Count(shape)).Reshape(shape);

    [Fact]
    public void ReshapeOfAContiguousTensorIsAViewSharingStorage()
    {
        var x = Range(2, 6);
        var y = x.Reshape(3, -1);
        Check.Shape([3, 4], y);
        Assert.Same(x.Storage, y.Storage);
        Assert.Equal(x.ToArray(), y.ToArray());
    }

    [Fact]
    public void TransposeSwapsStridesWithoutCopying()
    {
        var x = Range(2, 3);
        var t = x.T;
        Assert.Same(x.Storage, t.Storage);
        Assert.Equal(new[] { 1, 3 }, t.Strides);
        Assert.False(t.IsContiguous);
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, t.ToArray());
        Assert.True(t.Contiguous().IsContiguous);
    }

    [Fact]
    public void PermuteReordersDims()
    {
        var x = Range(2, 3, 4);
        var p = x.Permute(2, 0, 1);
        Check.Shape([4, 2, 3], p);
        var v = p.ToArray();
        for (var k = 0; k < 4; k++)
            for (var i = 0; i < 2; i++)
                for (var j = 0; j < 3; j++)
                    Assert.Equal(i * 12 + j * 4 + k, v[k * 6 + i * 3 + j]);
    }

    [Fact]
    public void ViewOfANonContiguousTensorFailsButReshapeCopies()
    {
        var t = Range(2, 3).T;
        var e = Assert.Throws<TensorShapeException>(() => t.View(6));
        Assert.Contains("View", e.Message);
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, t.Reshape(6).ToArray());
    }

    [Fact]
    public void ViewSplitsAndMergesDimsOfAStridedTensorWhenTheStridesAllow()
    {
        // [4, 6] sliced to every other row: rows stay contiguous inside, so [2, 2, 3] is a view.
        var x = Range(4, 6).Slice(0, 0, 4, 2);
        var v = x.View(2, 2, 3);
        Assert.Same(x.Storage, v.Storage);
        Assert.Equal(x.ToArray(), v.ToArray());
    }

    [Fact]
    public void SliceFollowsPythonRules()
    {
        var x = Tensor.Arange(0f, 10f);
        Assert.Equal(new float[] { 2, 5, 8 }, x.Slice(0, 2, 10, 3).ToArray());
        Assert.Equal(new float[] { 7, 8 }, x.Slice(0, -3, -1).ToArray());
        Assert.Equal(new float[] { 8, 9 }, x.Slice(0, 8, 100).ToArray());
        Assert.Empty(x.Slice(0, 5, 2).ToArray());
    }

    [Fact]
    public void SelectNarrowSqueezeUnsqueeze()
    {
        var x = Range(3, 4);
        Assert.Equal(new float[] { 1, 5, 9 }, x.Select(1, 1).ToArray());
        Assert.Equal(new float[] { 8, 9, 10, 11 }, x.Select(0, -1).ToArray());
        Assert.Equal(new float[] { 4, 5, 6, 7, 8, 9, 10, 11 }, x.Narrow(0, 1, 2).ToArray());
        Check.Shape([3, 1, 4], x.Unsqueeze(1));
        Check.Shape([3, 4, 1], x.Unsqueeze(-1));
        Check.Shape([3, 4], x.Unsqueeze(0).Squeeze(0));
        Check.Shape([3, 4], x.Unsqueeze(0).Unsqueeze(2).Squeeze());
        Check.Shape([3, 4], x.Squeeze(0)); // size 3: unchanged, like PyTorch
        Assert.Throws<TensorShapeException>(() => x.Narrow(0, 2, 2));
    }

    [Fact]
    public void ExpandUsesStrideZero()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).Reshape(3, 1);
        var e = x.Expand(3, 4);
        Assert.Equal(new[] { 1, 0 }, e.Strides);
        Assert.Equal(new float[] { 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3 }, e.ToArray());
        Check.Shape([2, 3, 4], x.Expand(2, -1, 4));
        Assert.Throws<TensorShapeException>(() => x.Expand(2, 4));
    }

    [Fact]
    public void FlattenMergesARangeOfDims()
    {
        var x = Range(2, 3, 4, 5);
        Check.Shape([2, 12, 5], x.Flatten(1, 2));
        Check.Shape([120], x.Flatten());
        Check.Shape([2, 60], x.Flatten(1));
    }

    [Fact]
    public void CatStackSplitChunk()
    {
        var a = Range(2, 2);
        var b = Range(1, 2) + 10f;
        Assert.Equal(new float[] { 0, 1, 2, 3, 10, 11 }, Tensor.Cat([a, b], 0).ToArray());
        Assert.Equal(new float[] { 0, 1, 0, 1, 2, 3, 2, 3 }, Tensor.Cat([a, a], 1).ToArray());
        var s = Tensor.Stack([a, a + 4f], 1);
        Check.Shape([2, 2, 2], s);
        Assert.Equal(new float[] { 0, 1, 4, 5, 2, 3, 6, 7 }, s.ToArray());
        var pieces = Tensor.Arange(0f, 7f).Split(3);
        Assert.Equal(3, pieces.Length);
        Assert.Equal(new float[] { 6 }, pieces[2].ToArray());
        var chunks = Tensor.Arange(0f, 6f).Chunk(4);
        Assert.Equal(3, chunks.Length); // PyTorch: chunks of ceil(6/4) = 2
        Assert.Equal(new float[] { 4, 5 }, chunks[2].ToArray());
    }

    [Fact]
    public void IntTensorsSupportViewsAndCat()
    {
        var ids = Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(new[] { 1, 4, 2, 5, 3, 6 }, ids.T.Contiguous().ToInt32Array());
        Assert.Equal(new[] { 2, 3, 5, 6 }, ids.Slice(1, 1, 3).ToInt32Array());
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7 }, Tensor.Cat([ids.Reshape(-1), Tensor.FromArray([7])]).ToInt32Array());
    }

    [Fact]
    public void DimErrorsNameTheOpAndRank()
    {
        var e = Assert.Throws<TensorShapeException>(() => Range(2, 3).Transpose(0, 3));
        Assert.Equal("Transpose: dim 3 out of range for a tensor of rank 2", e.Message);
        Assert.Contains("repeats", Assert.Throws<TensorShapeException>(() => Range(2, 3).Permute(1, 1)).Message);
    }

    [Fact]
    public void LargeStridedCopiesAreRightOnEveryThread()
    {
        var x = Range(300, 500);
        var t = x.T.Contiguous().ToArray();                     // 150k elements: the threaded copy
        for (var i = 0; i < 500; i++)
            for (var j = 0; j < 300; j += 7)
                Assert.Equal(j * 500 + i, t[i * 300 + j]);
    }
}
