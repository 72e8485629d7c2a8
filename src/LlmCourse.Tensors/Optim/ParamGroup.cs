namespace LlmCourse.Tensors.Optim;

/// <summary>
/// Parameters that share hyper-parameters. nanoGPT's split: weights of matmuls and embeddings decay,
/// biases and norm gains do not:
/// <code>new AdamW([new ParamGroup(decayed, weightDecay: 0.1f), new ParamGroup(others, weightDecay: 0f)], lr)</code>
/// A null value takes the optimizer's default.
/// </summary>
public sealed class ParamGroup(IEnumerable<Tensor> parameters, float? weightDecay = null, float? learningRate = null)
{
    public IReadOnlyList<Tensor> Parameters { get; } = parameters.ToArray();

    public float? WeightDecay { get; set; } = weightDecay;

    public float? LearningRate { get; set; } = learningRate;
}
