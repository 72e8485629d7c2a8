namespace LlmCourse.Tensors.NN;

/// <summary>max(x, 0) as a layer, for <see cref="Sequential"/> (PyTorch's <c>nn.ReLU</c>).</summary>
public sealed class ReLU : Module, IModule
{
    public Tensor Forward(Tensor input) => input.Relu();
}

/// <summary>GELU as a layer (<c>nn.GELU</c>; exact by default, <c>approximate: Tanh</c> for GPT-2's form).</summary>
public sealed class GELU(GeluApproximation approximate = GeluApproximation.None) : Module, IModule
{
    public GeluApproximation Approximate { get; } = approximate;

    public Tensor Forward(Tensor input) => input.Gelu(Approximate);

    protected override string ExtraRepr() => Approximate == GeluApproximation.Tanh ? "approximate='tanh'" : "";
}

/// <summary>tanh as a layer (<c>nn.Tanh</c>).</summary>
public sealed class Tanh : Module, IModule
{
    public Tensor Forward(Tensor input) => input.Tanh();
}

/// <summary>The logistic function as a layer (<c>nn.Sigmoid</c>).</summary>
public sealed class Sigmoid : Module, IModule
{
    public Tensor Forward(Tensor input) => input.Sigmoid();
}
