using System.Text;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Tensors.NN;

/// <summary>
/// Base of every layer and model, PyTorch's <c>nn.Module</c>: it registers parameters, buffers and
/// submodules in order, names them with dots (<c>blocks.0.attn.weight</c>), switches train/eval mode,
/// and saves/loads its state dict (safetensors). Subclasses register in their constructor:
/// <code>Weight = RegisterParameter("weight", Tensor.Empty(outFeatures, inFeatures));</code>
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public abstract class Module
{
    readonly List<KeyValuePair<string, Tensor>> parameters = [];
    readonly List<KeyValuePair<string, Tensor>> buffers = [];
    readonly HashSet<string> nonPersistent = [];
    readonly List<KeyValuePair<string, Module>> modules = [];

    /// <summary>True in training mode (dropout active), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    void CheckName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: {what} name '{name}' must be non-empty and contain no '.'");
        if (parameters.Any(p => p.Key == name) || buffers.Any(b => b.Key == name) || modules.Any(m => m.Key == name))
            throw new ArgumentException($"{GetType().Name}: a parameter, buffer or module named '{name}' is already registered");
    }

    /// <summary>Registers a submodule under <paramref name="name"/> and returns it.</summary>
    protected T Register<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name, "module");
        modules.Add(new(name, module));
        return module;
    }

    /// <summary>Registers a trainable tensor (it becomes a leaf that requires grad) and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name, "parameter");
        if (!value.IsLeaf) value = value.Detach();
        value.RequiresGrad = true;
        OutliveScopes(value);
        parameters.Add(new(name, value));
        return value;
    }

    /// <summary>
    /// Replaces a registered parameter (weight tying: <c>lmHead.Weight = tokenEmbedding.Weight</c>).
    /// The new tensor must have the old one's shape.
    /// </summary>
    protected Tensor SetParameter(string name, Tensor value)
    {
        var index = parameters.FindIndex(p => p.Key == name);
        if (index < 0) throw new ArgumentException($"{GetType().Name}: no parameter named '{name}'");
        var old = parameters[index].Value;
        if (!Shapes.Equal(old.shape, value.shape))
            throw new TensorShapeException($"{GetType().Name}.{name}: new parameter has shape {Shapes.Format(value.shape)}, expected {Shapes.Format(old.shape)}");
        if (!value.IsLeaf) throw new ArgumentException($"{GetType().Name}.{name}: a parameter must be a leaf tensor");
        value.RequiresGrad = true;
        OutliveScopes(value);
        parameters[index] = new(name, value);
        return value;
    }

    /// <summary>
    /// A module's tensors live as long as the module: one built inside a <see cref="TensorScope"/> must
    /// not have its parameters and buffers recycled when the scope ends, so the garbage collector, not the
    /// scope, reclaims them.
    /// </summary>
    static void OutliveScopes(Tensor value) => value.Storage.Owner = null;

    /// <summary>Registers a tensor that is state but not trained (e.g. a causal mask); persistent ones go into the state dict.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value, bool persistent = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name, "buffer");
        OutliveScopes(value);
        buffers.Add(new(name, value));
        if (!persistent) nonPersistent.Add(name);
        return value;
    }

    /// <summary>Every parameter, once each (shared ones are not repeated), in registration order.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, p) in module.parameters)
                if (seen.Add(p)) yield return (Join(prefix, name), p);
    }

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers()
    {
        foreach (var (prefix, module) in NamedModules())
            foreach (var (name, b) in module.buffers)
                yield return (Join(prefix, name), b);
    }

    /// <summary>This module (named "") and all submodules, depth first, each once.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(string, Module)>();
        stack.Push(("", this));
        while (stack.Count > 0)
        {
            var (name, module) = stack.Pop();
            if (!seen.Add(module)) continue;
            yield return (name, module);
            for (var i = module.modules.Count - 1; i >= 0; i--)
                stack.Push((Join(name, module.modules[i].Key), module.modules[i].Value));
        }
    }

    /// <summary>The direct submodules.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => modules.Select(m => (m.Key, m.Value));

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Number of trainable numbers.</summary>
    public long ParameterCount() => Parameters().Sum(p => p.Count);

    public Module Train(bool on = true)
    {
        foreach (var (_, m) in NamedModules()) m.Training = on;
        return this;
    }

    public Module Eval() => Train(false);

    /// <summary>
    /// Eval mode with gradients off until disposed, then the mode the module was in: the frame of
    /// sampling and scoring, <c>using var inference = model.Inference();</c> (PyTorch: <c>model.eval()</c>
    /// inside <c>torch.no_grad()</c>, then <c>model.train(was_training)</c>).
    /// </summary>
    public InferenceScope Inference() => new(this);

    public readonly struct InferenceScope : IDisposable
    {
        readonly Module module;
        readonly bool wasTraining;
        readonly Autograd.GradModeScope noGrad;

        internal InferenceScope(Module module)
        {
            this.module = module;
            wasTraining = module.Training;
            module.Eval();
            noGrad = Autograd.NoGrad();
        }

        public void Dispose()
        {
            noGrad.Dispose();
            module.Train(wasTraining);
        }
    }

    /// <summary>Sets every parameter's gradient to null (memory goes back to the pool).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ClearGrad();
    }

    /// <summary>Parameters and persistent buffers by dotted name (tensors share memory with the module).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (prefix, module) in NamedModules())
        {
            foreach (var (name, p) in module.parameters) result[Join(prefix, name)] = p.Detach();
            foreach (var (name, b) in module.buffers)
                if (!module.nonPersistent.Contains(name)) result[Join(prefix, name)] = b.Detach();
        }
        return result;
    }

    /// <summary>
    /// Copies values into this module's tensors (the tensors stay the same objects, so optimizers keep
    /// working). Shape mismatches always throw; with <paramref name="strict"/>, so do missing and unexpected keys.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = own.Where(kv => stateDict.TryGetValue(kv.Key, out var v) && !Shapes.Equal(v.shape, kv.Value.shape))
            .Select(kv => $"{kv.Key}: checkpoint {Shapes.Format(stateDict[kv.Key].shape)}, model {Shapes.Format(kv.Value.shape)}").ToList();
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var sb = new StringBuilder($"LoadStateDict: error(s) loading the state dict of {GetType().Name}:");
            if (missing.Count > 0) sb.Append("\n  missing keys: ").AppendJoin(", ", missing);
            if (unexpected.Count > 0) sb.Append("\n  unexpected keys: ").AppendJoin(", ", unexpected);
            if (mismatched.Count > 0) sb.Append("\n  size mismatch: ").AppendJoin("; ", mismatched);
            throw new TensorShapeException(sb.ToString());
        }
        using var noGrad = Autograd.NoGrad();
        using var unscoped = TensorScope.Suspend();
        foreach (var (key, target) in own)
            if (stateDict.TryGetValue(key, out var value))
                target.CopyFrom(value.DType == target.DType ? value : value.To(target.DType), "LoadStateDict");
    }

    /// <summary>Writes the state dict as a safetensors file (atomically).</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => Safetensors.Save(path, StateDict(), metadata);

    /// <summary>Loads a safetensors file written by <see cref="Save"/> (or by Python's safetensors).</summary>
    public void Load(string path, bool strict = true) => LoadStateDict(Safetensors.Load(path), strict);

    /// <summary>Moves every parameter, gradient and buffer to <paramref name="device"/>, keeping the tensor objects.</summary>
    public Module To(Device device)
    {
        using var unscoped = TensorScope.Suspend();
        foreach (var (_, m) in NamedModules())
        {
            foreach (var (_, p) in m.parameters) p.MoveTo(device);
            foreach (var (_, b) in m.buffers) b.MoveTo(device);
        }
        return this;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(GetType().Name).Append('(');
        if (modules.Count == 0) return sb.Append(ExtraRepr()).Append(')').ToString();
        sb.Append('\n');
        foreach (var (name, m) in modules)
            sb.Append("  (").Append(name).Append("): ").Append(m.ToString().Replace("\n", "\n  ")).Append('\n');
        return sb.Append(')').ToString();
    }

    /// <summary>What a leaf module prints inside its parentheses, e.g. <c>in_features=4, out_features=2</c>.</summary>
    protected virtual string ExtraRepr() => "";
}
