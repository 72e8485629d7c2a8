using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Tensors.Tests.Errors;

/// <summary>
/// Bad input fails with a message that names the op and the shapes, dims or dtypes involved
/// (ENGINE_API.md, Errors): shape mismatches throw <see cref="TensorShapeException"/>; other misuse
/// (dims out of range, Int32 where Float32 is needed, a non-scalar root) throws an ArgumentException
/// or InvalidOperationException. Shapes are written as in the contract: [2,3], no spaces.
/// </summary>
public sealed class ErrorMessageTests
{
    static Tensor R(params int[] shape) => Tensor.Randn(shape, new Generator(1));
    static Tensor I(params int[] values) => Tensor.FromArray(values);

    static void Names<TException>(Func<object?> act, params string[] parts) where TException : Exception
    {
        var e = Assert.ThrowsAny<TException>(() => { act(); });
        foreach (var part in parts)
            Assert.True(e.Message.Contains(part, StringComparison.Ordinal),
                $"{e.GetType().Name} message does not name '{part}': {e.Message}");
    }

    /// <summary>As <see cref="Names{TException}"/>, for exactly <typeparamref name="TException"/> (not a subclass).</summary>
    static void Exactly<TException>(Func<object?> act, params string[] parts) where TException : Exception
    {
        var e = Assert.Throws<TException>(() => { act(); });
        foreach (var part in parts)
            Assert.True(e.Message.Contains(part, StringComparison.Ordinal),
                $"{e.GetType().Name} message does not name '{part}': {e.Message}");
    }

    static void Shapes(Func<object?> act, params string[] parts) => Names<TensorShapeException>(act, parts);

    // --- shapes
    [Fact] public void MatMulInnerDims() => Shapes(() => R(2, 3).MatMul(R(4, 5)), "MatMul", "[2,3]", "[4,5]");
    [Fact] public void MatMulBatchDims() => Shapes(() => R(2, 3, 4).MatMul(R(5, 4, 6)), "MatMul", "[2,3,4]", "[5,4,6]");
    [Fact] public void MatMulVector() => Shapes(() => R(3).MatMul(R(4)), "MatMul", "[3]", "[4]");
    [Fact] public void AddBroadcast() => Shapes(() => R(2, 3) + R(4), "Add", "[2,3]", "[4]");
    [Fact] public void SubBroadcast() => Shapes(() => R(2, 3) - R(2, 2), "Sub", "[2,3]", "[2,2]");
    [Fact] public void MulBroadcast() => Shapes(() => R(5, 3) * R(4, 1), "Mul", "[5,3]", "[4,1]");
    [Fact] public void DivBroadcast() => Shapes(() => R(2, 3) / R(3, 3), "Div", "[2,3]", "[3,3]");
    [Fact] public void WhereBroadcast() => Shapes(() => Tensor.Where(R(2, 3).Gt(0f), R(2, 3), R(4)), "Where", "[4]");
    [Fact] public void MaskedFillBroadcast() => Shapes(() => R(2, 3).MaskedFill(R(3, 2).Gt(0f), 0f), "MaskedFill", "[2,3]", "[3,2]");
    [Fact] public void CatOtherDims() => Shapes(() => Tensor.Cat([R(2, 3), R(2, 4)], 0), "Cat", "[2,3]", "[2,4]");
    [Fact] public void CatRanks() => Shapes(() => Tensor.Cat([R(2, 3), R(3)], 0), "Cat", "[2,3]", "[3]");
    [Fact] public void StackShapes() => Shapes(() => Tensor.Stack([R(2, 3), R(3, 2)]), "Stack", "[2,3]", "[3,2]");
    [Fact] public void ViewCount() => Shapes(() => R(2, 3).View(4), "View", "[2,3]", "[4]");
    [Fact] public void ViewOfATranspose() => Shapes(() => R(2, 3).T.View(6), "View", "[3,2]", "[6]");
    [Fact] public void ReshapeCount() => Shapes(() => R(2, 3).Reshape(4, 2), "Reshape", "[2,3]", "[4,2]");
    [Fact] public void ReshapeTwoInferred() => Names<ArgumentException>(() => R(2, 3).Reshape(-1, -1), "Reshape", "-1");
    [Fact] public void ExpandNonSingleton() => Shapes(() => R(3, 2).Expand(3, 4), "Expand", "[3,2]", "[3,4]");
    [Fact] public void LinearInFeatures() => Shapes(() => F.Linear(R(2, 5), R(4, 6)), "[2,5]");
    [Fact] public void LayerNormShape() => Shapes(() => F.LayerNorm(R(2, 6), [8]), "LayerNorm", "[2,6]", "[8]");
    [Fact] public void CrossEntropyTargets() => Shapes(() => F.CrossEntropy(R(4, 5), I(1, 2, 3)), "CrossEntropy", "[4,5]", "[3]");
    [Fact] public void FromArrayLength() => Shapes(() => Tensor.FromArray(new float[5], 2, 3), "5", "[2,3]");

    // --- dims and indices
    [Fact] public void TransposeDim() => Names<ArgumentException>(() => R(2, 3).Transpose(0, 3), "Transpose", "3", "rank 2");
    [Fact] public void SumDim() => Names<ArgumentException>(() => R(2, 3).Sum(5), "Sum", "5", "rank 2");
    [Fact] public void SoftmaxDim() => Names<ArgumentException>(() => R(2, 3).Softmax(2), "Softmax", "2", "rank 2");
    [Fact] public void PermuteRepeatedDim() => Names<ArgumentException>(() => R(2, 3).Permute(0, 0), "Permute");
    [Fact] public void SelectIndex() => Names<ArgumentException>(() => R(2, 3).Select(1, 7), "Select", "7");
    [Fact] public void TopKTooLarge() => Names<ArgumentException>(() => R(2, 3).TopK(4), "TopK", "4");
    [Fact] public void EmbeddingIndexOutOfRange() => Names<ArgumentException>(() => F.Embedding(I(0, 10), R(10, 4)), "Embedding", "10");
    [Fact] public void CrossEntropyTargetOutOfRange() => Names<ArgumentException>(() => F.CrossEntropy(R(2, 5), I(1, 7)), "CrossEntropy", "7");
    [Fact] public void ItemOfAMatrix() => Exactly<TensorShapeException>(() => R(2, 3).Item(), "Item: only one-element tensors", "[2,3]");

    // --- dtypes: indices are Int32, maths is Float32
    [Fact] public void EmbeddingWithFloatIndices() => Names<ArgumentException>(() => F.Embedding(R(3), R(10, 4)), "Embedding", "Float32");
    [Fact] public void CrossEntropyWithFloatTargets() => Names<ArgumentException>(() => F.CrossEntropy(R(2, 5), R(2)), "CrossEntropy", "Float32");
    [Fact] public void ExpOfIntegers() => Names<ArgumentException>(() => I(1, 2).Exp(), "Exp", "Int32");
    [Fact] public void MatMulOfIntegers() => Names<ArgumentException>(() => I(1, 2).MatMul(I(3, 4)), "MatMul", "Int32");

    // --- autograd
    [Fact]
    public void BackwardOfANonScalarNeedsAGradient()
    {
        var x = R(2, 3).WithGrad();
        Exactly<TensorShapeException>(() => { (x * 2f).Backward(); return null; }, "Backward: a gradient can be created implicitly only for scalar outputs", "[2,3]");
    }

    [Fact]
    public void BackwardOfATensorWithoutGraph() =>
        Exactly<InvalidOperationException>(() => { R(1).Sum().Backward(); return null; }, "Backward: the tensor does not require grad");

    [Fact]
    public void BackwardGradientShape()
    {
        var x = R(2, 3).WithGrad();
        Exactly<TensorShapeException>(() => { (x * 2f).Backward(Tensor.Ones(3, 2)); return null; }, "Backward: gradient has shape [3,2]", "[2,3]");
    }
}
