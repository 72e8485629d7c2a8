namespace LlmCourse.Tensors.NN;

/// <summary>A lookup table [count, dim] of learned vectors, initialised N(0, 1) like PyTorch; input is Int32 ids.</summary>
public sealed class Embedding : Module, IModule
{
    Tensor weight;

    public Embedding(int count, int dim, Generator? generator = null)
    {
        Count = count;
        Dim = dim;
        weight = RegisterParameter("weight", Tensor.Empty(count, dim));
        Init.Normal(weight, 0f, 1f, generator);
    }

    public int Count { get; }

    public int Dim { get; }

    /// <summary>[count, dim]. Settable for weight tying.</summary>
    public Tensor Weight
    {
        get => weight;
        set => weight = SetParameter("weight", value);
    }

    /// <summary>Int32 ids [...] to vectors [..., dim].</summary>
    public Tensor Forward(Tensor input) => Functional.Embedding(input, weight);

    protected override string ExtraRepr() => $"{Count}, {Dim}";
}
