namespace LlmCourse.Tensors.Optim;

/// <summary>
/// Stochastic gradient descent, PyTorch's formulation: g += wd * p; with momentum, buf = g on the first
/// step, then buf = momentum * buf + g; Nesterov uses g + momentum * buf; p -= lr * update.
/// </summary>
public sealed class SGD : Optimizer
{
    public SGD(IEnumerable<Tensor> parameters, float lr, float momentum = 0f, float weightDecay = 0f, bool nesterov = false)
        : this([new ParamGroup(parameters)], lr, momentum, weightDecay, nesterov) { }

    public SGD(IEnumerable<ParamGroup> groups, float lr, float momentum = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(groups, lr, weightDecay)
    {
        if (nesterov && momentum <= 0f) throw new ArgumentException("SGD: Nesterov momentum requires a positive momentum");
        Momentum = momentum;
        Nesterov = nesterov;
    }

    public float Momentum { get; }

    public bool Nesterov { get; }

    protected override void Update(Tensor parameter, Tensor gradient, float learningRate, float weightDecay)
    {
        var update = gradient;
        if (weightDecay != 0f)
        {
            update = gradient.Clone();
            update.Backend.ScaleAdd(update, 1f, parameter, weightDecay);
        }
        if (Momentum != 0f)
        {
            var first = !HasState(parameter, "momentum_buffer");
            var buffer = State(parameter, "momentum_buffer");
            if (first) buffer.CopyFrom(update);
            else buffer.Backend.ScaleAdd(buffer, Momentum, update, 1f);
            if (Nesterov)
            {
                var lookAhead = update.Clone();
                lookAhead.Backend.ScaleAdd(lookAhead, 1f, buffer, Momentum);
                update = lookAhead;
            }
            else update = buffer;
        }
        parameter.Backend.ScaleAdd(parameter, 1f, update, -learningRate);
    }
}
