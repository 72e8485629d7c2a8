namespace LlmCourse.Tensors.NN;

/// <summary>RMS norm over the last dim (no centring, no bias), weight 1 at start.</summary>
public sealed class RMSNorm : Module, IModule
{
    public RMSNorm(int dim, float eps = 1e-6f)
    {
        Dim = dim;
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
    }

    public int Dim { get; }

    public float Eps { get; }

    public Tensor Weight { get; }

    public Tensor Forward(Tensor input) => Functional.RmsNorm(input, [Dim], Weight, Eps);

    protected override string ExtraRepr() => $"({Dim},), eps={Eps}";
}
