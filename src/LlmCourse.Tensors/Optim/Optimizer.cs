using System.Globalization;

namespace LlmCourse.Tensors.Optim;

/// <summary>
/// Base of the optimizers: parameter groups, learning rate, zeroing gradients, and per-parameter state
/// (moments, step counts) that round-trips through <see cref="StateDict"/> for an exact resume.
/// State keys: <c>state.{group}.{index}.{name}</c> and <c>param_groups.{group}.lr</c> / <c>.weight_decay</c>.
/// </summary>
public abstract class Optimizer
{
    readonly ParamGroup[] groups;
    readonly Dictionary<Tensor, Dictionary<string, Tensor>> state = new(ReferenceEqualityComparer.Instance);

    protected Optimizer(IEnumerable<ParamGroup> groups, float learningRate, float weightDecay)
    {
        this.groups = groups.ToArray();
        if (this.groups.Length == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in this.groups)
        {
            g.LearningRate ??= learningRate;
            g.WeightDecay ??= weightDecay;
            foreach (var p in g.Parameters)
            {
                if (!p.IsLeaf || p.DType != DType.Float32)
                    throw new ArgumentException($"{GetType().Name}: can only optimize Float32 leaf tensors (got {(p.IsLeaf ? p.DType : "a non-leaf")} tensor of shape {Shapes.Format(p.shape)})");
                if (!seen.Add(p)) throw new ArgumentException($"{GetType().Name}: a parameter of shape {Shapes.Format(p.shape)} appears in more than one group");
            }
        }
    }

    public IReadOnlyList<ParamGroup> ParamGroups => groups;

    /// <summary>The first group's rate; setting it sets every group's (what an LR schedule does each step).</summary>
    public float LearningRate
    {
        get => groups[0].LearningRate!.Value;
        set
        {
            foreach (var g in groups) g.LearningRate = value;
        }
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = Autograd.NoGrad();
        var updates = new List<ParameterUpdate>();
        foreach (var g in groups)
            foreach (var p in g.Parameters)
                if (p.grad is not null) updates.Add(new ParameterUpdate(p, p.grad, g.LearningRate!.Value, g.WeightDecay!.Value));
        Update(updates);
    }

    /// <summary>One parameter's update, in place, under NoGrad.</summary>
    protected abstract void Update(Tensor parameter, Tensor gradient, float learningRate, float weightDecay);

    /// <summary>
    /// A step's updates, in group order, under NoGrad: one by one unless an optimizer hands them to its backend together
    /// (<see cref="Adam"/> does: on a GPU, one launch for every parameter instead of one each).
    /// </summary>
    protected virtual void Update(IReadOnlyList<ParameterUpdate> updates)
    {
        foreach (var u in updates) Update(u.Parameter, u.Gradient, u.LearningRate, u.WeightDecay);
    }

    /// <summary>One parameter of a step: its gradient and its group's learning rate and weight decay.</summary>
    protected readonly record struct ParameterUpdate(Tensor Parameter, Tensor Gradient, float LearningRate, float WeightDecay);

    /// <summary>Sets every parameter's gradient to null (memory goes back to the pool).</summary>
    public void ZeroGrad()
    {
        foreach (var g in groups)
            foreach (var p in g.Parameters) p.ClearGrad();
    }

    /// <summary>
    /// A state tensor of the parameter (created zeroed, outside any <see cref="TensorScope"/>, on first use),
    /// on the parameter's device, except the step count: it lives on the CPU, as in PyTorch, because the
    /// host reads it every step (a GPU copy would wait for the GPU's queue once per parameter per step).
    /// </summary>
    protected Tensor State(Tensor parameter, string name, DType dtype = DType.Float32)
    {
        if (!state.TryGetValue(parameter, out var entries)) state[parameter] = entries = [];
        if (!entries.TryGetValue(name, out var t))
        {
            using var unscoped = TensorScope.Suspend();
            entries[name] = t = Tensor.Zeros(name == "step" ? [] : parameter.shape, dtype, StateDevice(parameter, name));
        }
        else if (t.Device != StateDevice(parameter, name))
        {
            // The model moved (Module.To) after the optimizer stepped: its state follows, or the kernels would mix devices.
            using var unscoped = TensorScope.Suspend();
            t.MoveTo(StateDevice(parameter, name));
        }
        return t;
    }

    static Device StateDevice(Tensor parameter, string name) => name == "step" ? Device.Cpu : parameter.Device;

    protected bool HasState(Tensor parameter, string name) => state.TryGetValue(parameter, out var e) && e.ContainsKey(name);

    /// <summary>Adds one to the parameter's step count and returns the new count.</summary>
    protected int IncrementStep(Tensor parameter)
    {
        var step = State(parameter, "step", DType.Int32);
        var next = (int)step.Item() + 1;
        step.FillInPlace(next);
        return next;
    }

    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>();
        for (var g = 0; g < groups.Length; g++)
        {
            result[Key("param_groups", g, "lr")] = Tensor.Scalar(groups[g].LearningRate!.Value);
            result[Key("param_groups", g, "weight_decay")] = Tensor.Scalar(groups[g].WeightDecay!.Value);
            for (var i = 0; i < groups[g].Parameters.Count; i++)
                if (state.TryGetValue(groups[g].Parameters[i], out var entries))
                    foreach (var (name, t) in entries)
                        result[string.Create(CultureInfo.InvariantCulture, $"state.{g}.{i}.{name}")] = t.Clone();
        }
        return result;
    }

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict)
    {
        state.Clear();
        using var unscoped = TensorScope.Suspend();
        for (var g = 0; g < groups.Length; g++)
        {
            if (stateDict.TryGetValue(Key("param_groups", g, "lr"), out var lr)) groups[g].LearningRate = lr.Item();
            if (stateDict.TryGetValue(Key("param_groups", g, "weight_decay"), out var wd)) groups[g].WeightDecay = wd.Item();
        }
        foreach (var (key, value) in stateDict)
        {
            var parts = key.Split('.');
            if (parts[0] == "param_groups") continue;
            if (parts.Length != 4 || parts[0] != "state" || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var g) ||
                !int.TryParse(parts[2], CultureInfo.InvariantCulture, out var i) || g < 0 || g >= groups.Length || i < 0 || i >= groups[g].Parameters.Count)
                throw new ArgumentException($"{GetType().Name}.LoadStateDict: unexpected key '{key}' for {groups.Length} group(s)");
            var p = groups[g].Parameters[i];
            if (parts[3] != "step" && !Shapes.Equal(value.shape, p.shape))
                throw new TensorShapeException($"{GetType().Name}.LoadStateDict: '{key}' has shape {Shapes.Format(value.shape)}, the parameter has {Shapes.Format(p.shape)}");
            if (!state.TryGetValue(p, out var entries)) state[p] = entries = [];
            entries[parts[3]] = value.To(StateDevice(p, parts[3])).Clone();
        }
    }

    static string Key(string section, int group, string name) => string.Create(CultureInfo.InvariantCulture, $"{section}.{group}.{name}");
}
