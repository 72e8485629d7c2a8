namespace LlmCourse.Tensors.Optim;

/// <summary>
/// Adam (Kingma &amp; Ba) as PyTorch 1.13 computes it, one fused pass per parameter:
/// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
/// Weight decay here is L2 (added to the gradient); <see cref="AdamW"/> decouples it.
/// </summary>
public class Adam : Optimizer
{
    readonly bool decoupled;

    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay) { }

    public Adam(IEnumerable<ParamGroup> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : this(groups, lr, beta1, beta2, eps, weightDecay, decoupled: false) { }

    private protected Adam(IEnumerable<ParamGroup> groups, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
        : base(groups, lr, weightDecay)
    {
        if (beta1 < 0f || beta1 >= 1f) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, $"{GetType().Name}: beta1 must be in [0, 1)");
        if (beta2 < 0f || beta2 >= 1f) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, $"{GetType().Name}: beta2 must be in [0, 1)");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        this.decoupled = decoupled;
    }

    public float Beta1 { get; }

    public float Beta2 { get; }

    public float Eps { get; }

    protected override void Update(Tensor parameter, Tensor gradient, float learningRate, float weightDecay) =>
        parameter.Backend.AdamSteps([Prepare(parameter, gradient, learningRate, weightDecay)]);

    /// <summary>Every parameter of a device in one call to its backend (the same per-element arithmetic as one by one).</summary>
    protected override void Update(IReadOnlyList<ParameterUpdate> updates)
    {
        foreach (var onDevice in updates.GroupBy(u => u.Parameter.Device))
            onDevice.First().Parameter.Backend.AdamSteps(
                onDevice.Select(u => Prepare(u.Parameter, u.Gradient, u.LearningRate, u.WeightDecay)).ToList());
    }

    Backends.AdamUpdate Prepare(Tensor parameter, Tensor gradient, float learningRate, float weightDecay)
    {
        var m = State(parameter, "exp_avg");
        var v = State(parameter, "exp_avg_sq");
        var step = IncrementStep(parameter);
        return new Backends.AdamUpdate(parameter, gradient, m, v,
            new Backends.AdamStepArgs(learningRate, Beta1, Beta2, Eps, weightDecay, decoupled, step));
    }
}

/// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter): p *= 1 - lr * wd before the Adam step.</summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0.01f)
        : this([new ParamGroup(parameters)], lr, beta1, beta2, eps, weightDecay) { }

    public AdamW(IEnumerable<ParamGroup> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0.01f)
        : base(groups, lr, beta1, beta2, eps, weightDecay, decoupled: true) { }
}
