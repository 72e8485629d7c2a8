namespace LlmCourse.Alignment;

/// <summary>How strongly the policy is held to the reference: a fixed KL coefficient, or one that adapts.</summary>
public interface IKlController
{
    double Coefficient { get; }
    /// <summary>Called after each rollout batch with its measured KL and the number of samples in it.</summary>
    void Update(double kl, int samples);
}

public sealed class FixedKlController(double coefficient) : IKlController
{
    public double Coefficient { get; } = coefficient;
    public void Update(double kl, int samples) { }
}

/// <summary>
/// The adaptive KL controller of Ziegler et al. 2019 (and TRL): a proportional controller that moves
/// the coefficient β toward the value that keeps KL(π ‖ π_ref) near a target:
/// e = clip(KL/target − 1, −0.2, 0.2), β ← β · (1 + e · samples / horizon).
/// Above the target β grows (a tighter leash), below it β shrinks.
/// </summary>
public sealed class AdaptiveKlController : IKlController
{
    public AdaptiveKlController(double initialCoefficient, double target, double horizon = 10_000)
    {
        if (!(target > 0)) throw new ArgumentOutOfRangeException(nameof(target), target, "AdaptiveKlController: the target KL must be positive.");
        if (!(horizon > 0)) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "AdaptiveKlController: the horizon must be positive.");
        Coefficient = initialCoefficient;
        Target = target;
        Horizon = horizon;
    }

    public double Coefficient { get; private set; }
    public double Target { get; }
    public double Horizon { get; }

    public void Update(double kl, int samples)
    {
        var error = Math.Clamp(kl / Target - 1, -0.2, 0.2);
        Coefficient *= 1 + error * samples / Horizon;
    }
}
