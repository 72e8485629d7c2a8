using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Errors;

/// <summary>
/// The index bounds checks (Backend.CheckIndices) on the CPU: thrown by the op itself, naming the op, the
/// first bad value and its position. A GPU reports the same text at its next read-back (DeferredCheckTests).
/// </summary>
public sealed class IndexCheckTests
{
    static Tensor I(params int[] v) => Tensor.FromArray(v, [v.Length]);

    static Tensor R(params int[] shape) => Tensor.Randn(shape, new Generator(7));

    [Fact]
    public void EmbeddingNamesTheFirstBadIdAndItsPosition()
    {
        var e = Assert.Throws<TensorShapeException>(() => F.Embedding(Tensor.FromArray([3, 4, 70, -1, 80, 5], [2, 3]), R(65, 4)));
        Assert.Equal("Embedding: index 70 at position 2 is out of range for an embedding of 65 rows", e.Message);
        e = Assert.Throws<TensorShapeException>(() => F.Embedding(I(-1, 70), R(65, 4)));
        Assert.Equal("Embedding: index -1 at position 0 is out of range for an embedding of 65 rows", e.Message);
        // The last row is in range, one past it is not.
        Assert.Equal([1, 4], F.Embedding(I(64), R(65, 4)).Shape);
        e = Assert.Throws<TensorShapeException>(() => F.Embedding(I(0, 65), R(65, 4)));
        Assert.Equal("Embedding: index 65 at position 1 is out of range for an embedding of 65 rows", e.Message);
    }

    [Fact]
    public void IndexSelectAndGatherNameTheDimAndTheFirstBadIndex()
    {
        var e = Assert.Throws<TensorShapeException>(() => R(3, 4).IndexSelect(1, I(0, 3, 4, 9)));
        Assert.Equal("IndexSelect: index 4 at position 2 is out of range for dim 1 of size 4", e.Message);
        e = Assert.Throws<TensorShapeException>(() => R(3, 4).Gather(0, Tensor.FromArray([0, 1, 2, 2, 3, -2], [2, 3])));
        Assert.Equal("Gather: index 3 at position 4 is out of range for dim 0 of size 3", e.Message);
    }

    [Fact]
    public void CrossEntropyNamesTheFirstBadTargetAndSkipsTheIgnoredOnes()
    {
        var e = Assert.Throws<TensorShapeException>(() => F.CrossEntropy(R(4, 65), I(0, 70, -100, 99)));
        Assert.Equal("CrossEntropy: target 70 at row 1 is out of bounds for 65 classes (ignoreIndex is -100)", e.Message);
        e = Assert.Throws<TensorShapeException>(() => F.CrossEntropy(R(3, 65), I(-100, 64, -1)));
        Assert.Equal("CrossEntropy: target -1 at row 2 is out of bounds for 65 classes (ignoreIndex is -100)", e.Message);
        // -100 is only allowed as the ignoreIndex: with another one it is a bad target.
        e = Assert.Throws<TensorShapeException>(() => F.CrossEntropy(R(2, 65), I(-100, 3), ignoreIndex: 3));
        Assert.Equal("CrossEntropy: target -100 at row 0 is out of bounds for 65 classes (ignoreIndex is 3)", e.Message);
    }

    /// <summary>The mean divides by the count of counted targets as a tensor (no read-back): same value, NaN when none count.</summary>
    [Fact]
    public void CrossEntropyMeanCountsOnlyTheTargetsNotIgnored()
    {
        var logits = R(4, 5);
        var targets = I(1, -100, 4, 0);
        var perRow = F.CrossEntropy(logits, targets, reduction: Reduction.None).ToArray();
        Assert.Equal(0f, perRow[1]);
        var expected = (perRow[0] + perRow[2] + perRow[3]) / 3f;
        Assert.Equal(expected, F.CrossEntropy(logits, targets).Item(), 6);
        Assert.True(float.IsNaN(F.CrossEntropy(logits, I(-100, -100, -100, -100)).Item()));
        var x = logits.Detach().WithGrad();
        F.CrossEntropy(x, targets).Backward();
        Assert.Equal(0f, x.Grad!.ToArray()[5..10].Select(MathF.Abs).Sum());   // the ignored row gets no gradient
        Assert.Equal(0f, x.Grad!.ToArray()[0..5].Sum(), 5);                   // softmax - one-hot sums to 0 per row
    }
}
