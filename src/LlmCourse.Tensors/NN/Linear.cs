namespace LlmCourse.Tensors.NN;

/// <summary>
/// y = x @ W^T + b with W [out, in]. PyTorch's initialisation: W ~ U(-1/sqrt(in), 1/sqrt(in))
/// (kaiming_uniform with a = sqrt 5), b ~ U(-1/sqrt(in), 1/sqrt(in)), drawn in that order.
/// </summary>
public sealed class Linear : Module, IModule
{
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures < 0 || outFeatures < 0) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear: sizes must be non-negative, got {inFeatures} -> {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        weight = RegisterParameter("weight", Tensor.Empty(outFeatures, inFeatures));
        Init.KaimingUniform(weight, MathF.Sqrt(5f), generator: generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(outFeatures));
            var bound = inFeatures > 0 ? 1f / MathF.Sqrt(inFeatures) : 0f;
            Init.Uniform(Bias, -bound, bound, generator);
        }
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>[out, in]. Settable for weight tying (the new tensor must have the same shape).</summary>
    public Tensor Weight
    {
        get => weight;
        set => weight = SetParameter("weight", value);
    }

    Tensor weight;

    public Tensor? Bias { get; }

    /// <summary>
    /// A low-rank adapter whose output is added to this layer's (LoRA), or null. It is not a registered
    /// submodule, so the layer's state dict stays that of the plain layer; see <see cref="LoraAdapter"/>.
    /// </summary>
    public LoraAdapter? Adapter { get; internal set; }

    public Tensor Forward(Tensor input)
    {
        var output = Functional.Linear(input, Weight, Bias);
        return Adapter is null ? output : output + Adapter.Forward(input);
    }

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is not null ? "True" : "False")}";
}
