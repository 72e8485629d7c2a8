using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>
/// PPO's two losses (Schulman et al. 2017), on per-token tensors with a mask of the positions that
/// count (response tokens). ρ = π_θ(a)/π_old(a) = exp(log π_θ − log π_old).
/// </summary>
public static class PpoLosses
{
    /// <summary>
    /// The clipped surrogate, as a loss to minimise: mean over masked positions of
    /// max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)). Once ρ has moved more than ε in the direction A favours,
    /// the clipped branch is the larger and has no gradient: the step stops pushing. Also returns the
    /// fraction of positions where the clipped branch was taken, and an estimate of KL(π_old ‖ π_θ)
    /// (mean of k3), both for logging.
    /// </summary>
    public static (Tensor Loss, double ClipFraction, double ApproxKl) ClippedSurrogate(
        Tensor logProbs, Tensor oldLogProbs, Tensor advantages, Tensor mask, double clipRange = 0.2)
    {
        var eps = (float)clipRange;
        var logRatio = logProbs - oldLogProbs;
        var ratio = logRatio.Exp();
        var unclipped = -advantages * ratio;
        var clipped = -advantages * ratio.Clamp(1 - eps, 1 + eps);
        var count = mask.Sum();
        var loss = (Tensor.Maximum(unclipped, clipped) * mask).Sum() / count;
        using var noGrad = Autograd.NoGrad();
        var n = count.Item();
        var clipFraction = ((clipped.Gt(unclipped) * mask).Sum().Item()) / n;
        var approxKl = (((ratio - 1f) - logRatio) * mask).Sum().Item() / n;
        return (loss, clipFraction, approxKl);
    }

    /// <summary>
    /// The clipped value loss: ½ · mean over masked positions of max((V − R)², (V_clipped − R)²), with
    /// V_clipped = V_old + clip(V − V_old, −ε, ε), so one batch cannot move the value far either.
    /// Also returns the fraction of positions where the clipped term was the larger.
    /// </summary>
    public static (Tensor Loss, double ClipFraction) ClippedValueLoss(Tensor values, Tensor oldValues, Tensor returns, Tensor mask, double clipRange = 0.2)
    {
        var eps = (float)clipRange;
        var clippedValues = oldValues + (values - oldValues).Clamp(-eps, eps);
        var unclippedLoss = (values - returns).Square();
        var clippedLoss = (clippedValues - returns).Square();
        var count = mask.Sum();
        var loss = (Tensor.Maximum(unclippedLoss, clippedLoss) * mask).Sum() / count * 0.5f;
        using var noGrad = Autograd.NoGrad();
        return (loss, ((clippedLoss.Gt(unclippedLoss) * mask).Sum().Item()) / count.Item());
    }
}
