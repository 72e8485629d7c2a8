namespace LlmCourse.Tensors.NN;

/// <summary>Zeroes elements with probability p in training mode (scaling the rest by 1/(1-p)); the identity in eval mode.</summary>
public sealed class Dropout(float p, Generator? generator = null) : Module, IModule
{
    public float P { get; } = p is >= 0f and <= 1f ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: probability has to be between 0 and 1");

    public Tensor Forward(Tensor input) => Functional.Dropout(input, P, Training, generator);

    protected override string ExtraRepr() => $"p={P}";
}
