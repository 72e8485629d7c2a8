using LlmCourse.Tensors.Backends;

namespace LlmCourse.Tensors;

/// <summary>How a loss reduces its per-element values.</summary>
public enum Reduction
{
    None,
    Mean,
    Sum,
}

/// <summary>
/// PyTorch's <c>torch.nn.functional</c>: <c>using F = LlmCourse.Tensors.Functional;</c>. The bigger ops
/// live in their own files (<c>Ops/CrossEntropy.cs</c>, <c>Ops/Normalization.cs</c>, <c>Ops/Attention.cs</c>,
/// <c>Ops/Sampling.cs</c>); this file holds the one-liners.
/// </summary>
public static partial class Functional
{
    public static Tensor Relu(Tensor x) => x.Relu();

    public static Tensor Gelu(Tensor x, GeluApproximation approximate = GeluApproximation.None) => x.Gelu(approximate);

    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();

    public static Tensor Tanh(Tensor x) => x.Tanh();

    public static Tensor Silu(Tensor x) => x.Silu();

    public static Tensor Softplus(Tensor x) => x.Softplus();

    /// <summary>log(sigmoid(x)) without overflow (the DPO loss is -LogSigmoid(beta * margin)).</summary>
    public static Tensor LogSigmoid(Tensor x) => x.LogSigmoid();

    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);

    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);

    /// <summary>Mean (or sum) of squared differences.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (!Shapes.Equal(input.shape, target.shape))
            throw new TensorShapeException($"MseLoss: input {Shapes.Format(input.shape)} and target {Shapes.Format(target.shape)} must have the same shape");
        var squared = (input - target).Square();
        return Reduce(squared, reduction);
    }

    internal static Tensor Reduce(Tensor values, Reduction reduction) => reduction switch
    {
        Reduction.None => values,
        Reduction.Sum => values.Sum(),
        _ => values.Mean(),
    };

    /// <summary>
    /// Index-to-vector lookup: rows of <paramref name="weight"/> [count, dim] at Int32 <paramref name="indices"/>
    /// [...], giving [..., dim]. The weight's gradient is a scatter-add (repeated tokens accumulate).
    /// </summary>
    /// <remarks>
    /// An id outside [0, count) is a <see cref="TensorShapeException"/> naming the id and its flat position. On
    /// the CPU it is thrown here; on a GPU the ids are checked by a kernel queued with the lookup and the error
    /// is thrown at the next read-back (Item, ToArray, Cuda.Synchronize), as PyTorch's device-side asserts are,
    /// so a training step never waits for the GPU. Until then the bad rows read as zeros.
    /// </remarks>
    public static Tensor Embedding(Tensor indices, Tensor weight)
    {
        if (weight.Rank != 2) throw new TensorShapeException($"Embedding: weight must be 2-D [count, dim], got {Shapes.Format(weight.shape)}");
        if (indices.DType != DType.Int32)
            throw new TensorShapeException($"Embedding: indices must be int32 token ids, got {indices.DType} (shape {Shapes.Format(indices.shape)})");
        var flat = indices.Reshape(-1);
        // One check, with the embedding's words (IndexSelect would otherwise check the same ids again).
        var rows = weight.IndexSelect(0, flat, $"Embedding: index {{0}} at position {{1}} is out of range for an embedding of {weight.shape[0]} rows");
        return rows.Reshape([.. indices.shape, weight.shape[1]]);
    }

    /// <summary>Float32 one-hot vectors [..., numClasses] for Int32 indices (numClasses -1: max index + 1).</summary>
    public static Tensor OneHot(Tensor indices, int numClasses = -1)
    {
        if (indices.DType != DType.Int32)
            throw new TensorShapeException($"OneHot: indices must be int32, got {indices.DType}");
        var ids = indices.ToInt32Array();
        if (numClasses < 0) numClasses = ids.Length == 0 ? 0 : ids.Max() + 1;
        var values = new float[ids.Length * numClasses];
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0 || ids[i] >= numClasses)
                throw new TensorShapeException($"OneHot: class index {ids[i]} is out of range for {numClasses} classes");
            values[i * numClasses + ids[i]] = 1f;
        }
        return Tensor.FromArray(values, [.. indices.shape, numClasses], indices.Device);
    }
}
