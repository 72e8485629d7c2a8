namespace LlmCourse.Tensors.NN;

/// <summary>A module with one input and one output (what <see cref="Sequential"/> chains).</summary>
public interface IModule
{
    Tensor Forward(Tensor input);
}
