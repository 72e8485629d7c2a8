namespace LlmCourse.Training;

/// <summary>Training stopped because the loss or the gradient stopped being a finite number.</summary>
public sealed class NonFiniteLossException(int step, string what, double value, int lastFiniteStep, double lastFiniteLoss)
    : Exception($"Training stopped at step {step}: the {what} is {value}. The last finite loss was {lastFiniteLoss:F4} at step {lastFiniteStep}. " +
                "Lower the learning rate, check the data, or clip the gradients.")
{
    public int Step { get; } = step;
    public double LastFiniteLoss { get; } = lastFiniteLoss;
    public int LastFiniteStep { get; } = lastFiniteStep;
}
