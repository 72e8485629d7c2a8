namespace LlmCourse.Tensors.NN;

/// <summary>Layer norm over the last dim, weight 1 and bias 0 at start (PyTorch's <c>nn.LayerNorm(dim)</c>).</summary>
public sealed class LayerNorm : Module, IModule
{
    public LayerNorm(int dim, float eps = 1e-5f, bool bias = true)
    {
        Dim = dim;
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(dim));
    }

    public int Dim { get; }

    public float Eps { get; }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public Tensor Forward(Tensor input) => Functional.LayerNorm(input, [Dim], Weight, Bias, Eps);

    protected override string ExtraRepr() => $"({Dim},), eps={Eps}";
}
