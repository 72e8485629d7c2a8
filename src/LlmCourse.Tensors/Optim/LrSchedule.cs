namespace LlmCourse.Tensors.Optim;

/// <summary>A learning rate per step (step 0 is the first update).</summary>
public abstract class LrSchedule
{
    public abstract float At(int step);

    /// <summary>Sets the optimizer's rate for <paramref name="step"/> and returns it.</summary>
    public float Apply(Optimizer optimizer, int step) => optimizer.LearningRate = At(step);
}

public sealed class ConstantLr(float lr) : LrSchedule
{
    public float Lr { get; } = lr;

    public override float At(int step) => Lr;
}

/// <summary>
/// nanoGPT's <c>get_lr</c>: linear warmup lr * (step + 1) / (warmupSteps + 1) for step &lt; warmupSteps,
/// then cosine decay from maxLr to minLr reached at totalSteps, minLr afterwards. Computed in double.
/// </summary>
public sealed class WarmupCosineLr : LrSchedule
{
    public WarmupCosineLr(float maxLr, float minLr, int warmupSteps, int totalSteps)
    {
        if (warmupSteps < 0 || totalSteps < warmupSteps)
            throw new ArgumentException($"WarmupCosineLr: need 0 <= warmupSteps ({warmupSteps}) <= totalSteps ({totalSteps})");
        MaxLr = maxLr;
        MinLr = minLr;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    public float MaxLr { get; }

    public float MinLr { get; }

    public int WarmupSteps { get; }

    public int TotalSteps { get; }

    public override float At(int step)
    {
        if (step < WarmupSteps) return (float)((double)MaxLr * (step + 1) / (WarmupSteps + 1));
        if (step > TotalSteps || TotalSteps == WarmupSteps) return MinLr;
        var decayRatio = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        var coefficient = 0.5 * (1.0 + Math.Cos(Math.PI * decayRatio));
        return (float)(MinLr + coefficient * ((double)MaxLr - MinLr));
    }
}
