namespace LlmCourse.Tensors;

/// <summary>Starting reverse-mode differentiation from a tensor (see <see cref="Engine"/>).</summary>
public sealed partial class Tensor
{
    /// <summary>
    /// Accumulates d(this)/d(leaf) into the <see cref="Grad"/> of every leaf that requires grad. A scalar
    /// needs no <paramref name="gradient"/>; any other shape needs one of its own shape. The graph's saved
    /// tensors are freed afterwards unless <paramref name="retainGraph"/>.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false) => Engine.Backward(this, gradient, retainGraph);
}
