namespace LlmCourse.Tensors.Optim;

/// <summary>
/// Dynamic loss scaling for float16 autocast (PyTorch's <c>torch.amp.GradScaler</c>): float16's
/// smallest normal value is 6e-5, so small gradients underflow to zero unless the loss is multiplied
/// by a large factor before backward and the gradients divided by it before the step. When a step's
/// gradients hold an infinity or NaN the step is skipped and the scale halves; after
/// <c>growthInterval</c> clean steps it doubles. bfloat16 has float32's range and needs none of this.
/// <code>
/// using (Autocast.Float16()) loss = F.CrossEntropy(model.Forward(x), y);
/// scaler.Scale(loss).Backward();
/// scaler.Step(optimizer);   // unscales, skips on inf/NaN
/// scaler.Update();
/// </code>
/// </summary>
public sealed class GradScaler(float initialScale = 65536f, float growthFactor = 2f, float backoffFactor = 0.5f,
    int growthInterval = 2000, bool enabled = true)
{
    int cleanSteps;
    bool unscaled;
    bool foundNonFinite;

    /// <summary>The factor the next loss is multiplied by.</summary>
    public float CurrentScale { get; private set; } = initialScale > 0f
        ? initialScale
        : throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "GradScaler: the initial scale must be positive.");

    public bool IsEnabled => enabled;

    /// <summary>Steps skipped so far because a gradient was not finite.</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>The loss times the current scale (call Backward on this).</summary>
    public Tensor Scale(Tensor loss) => enabled ? loss * CurrentScale : loss;

    /// <summary>Whether this step's gradients held an infinity or NaN (known once they are unscaled; reset by <see cref="Update"/>).</summary>
    public bool FoundNonFinite => foundNonFinite;

    /// <summary>Clean steps since the scale last changed: it grows when this reaches the growth interval.</summary>
    public int GrowthTracker => cleanSteps;

    /// <summary>
    /// Divides every gradient of the optimizer's parameters by the scale (once per step), noting any inf/NaN.
    /// Each device's gradients are scaled in one call, and all of them checked at once by their global norm
    /// (<see cref="GradClip.GradNorm"/>: a GPU reads back one number per step, not one per parameter). An infinity
    /// or NaN anywhere makes it non-finite; so would a norm above float32's range (about 1.8e19 after unscaling),
    /// a gradient no training survives.
    /// </summary>
    public void Unscale(Optimizer optimizer)
    {
        if (!enabled || unscaled) return;
        unscaled = true;
        var parameters = optimizer.ParamGroups.SelectMany(g => g.Parameters).ToList();
        foreach (var onDevice in parameters.Select(p => p.grad).OfType<Tensor>().GroupBy(g => g.Device))
            onDevice.First().Backend.ScaleInPlace(onDevice.ToList(), 1f / CurrentScale);
        foundNonFinite = !float.IsFinite(GradClip.GradNorm(parameters));
    }

    /// <summary>Restores a scale and growth tracker saved from <see cref="CurrentScale"/> and <see cref="GrowthTracker"/> (exact resume).</summary>
    public void LoadState(float scale, int growthTracker)
    {
        if (!(scale > 0f) || !float.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "GradScaler: a saved scale is positive and finite.");
        ArgumentOutOfRangeException.ThrowIfNegative(growthTracker);
        CurrentScale = scale;
        cleanSteps = growthTracker;
        unscaled = false;
        foundNonFinite = false;
    }

    /// <summary>Unscales (unless done already) and steps the optimizer when every gradient is finite; returns whether it stepped.</summary>
    public bool Step(Optimizer optimizer)
    {
        if (!enabled)
        {
            optimizer.Step();
            return true;
        }
        Unscale(optimizer);
        if (foundNonFinite)
        {
            SkippedSteps++;
            return false;
        }
        optimizer.Step();
        return true;
    }

    /// <summary>Adjusts the scale for the next step: backs off after an inf/NaN, grows after growthInterval clean steps.</summary>
    public void Update()
    {
        if (!enabled) return;
        if (foundNonFinite)
        {
            CurrentScale *= backoffFactor;
            cleanSteps = 0;
        }
        else if (++cleanSteps >= growthInterval)
        {
            CurrentScale *= growthFactor;
            cleanSteps = 0;
        }
        unscaled = false;
        foundNonFinite = false;
    }
}
