using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>
/// Estimating KL(π ‖ π_ref) = E_{y~π}[log π(y) − log π_ref(y)] from samples y ~ π, one token at a time
/// (Schulman, "Approximating KL divergence", 2020). With r = π_ref(y)/π(y):
/// <list type="bullet">
/// <item><b>k1</b> = −log r. Unbiased; single samples can be negative. PPO's per-token penalty (TRL's "kl").</item>
/// <item><b>k2</b> = ½ (log r)². Biased, but low variance and always ≥ 0; close to KL when π ≈ π_ref.</item>
/// <item><b>k3</b> = (r − 1) − log r. Unbiased and always ≥ 0 (log r ≤ r − 1); GRPO's penalty (DeepSeekMath).</item>
/// </list>
/// </summary>
public static class KlEstimators
{
    public static double K1(double logProb, double referenceLogProb) => logProb - referenceLogProb;

    public static double K2(double logProb, double referenceLogProb) => 0.5 * Math.Pow(referenceLogProb - logProb, 2);

    public static double K3(double logProb, double referenceLogProb)
    {
        var logRatio = referenceLogProb - logProb;
        return Math.Exp(logRatio) - 1 - logRatio;
    }

    /// <summary>k3 element-wise on tensors, differentiable in <paramref name="logProbs"/>.</summary>
    public static Tensor K3(Tensor logProbs, Tensor referenceLogProbs)
    {
        var logRatio = referenceLogProbs - logProbs;
        return logRatio.Exp() - logRatio - 1f;
    }

    /// <summary>The exact KL(p ‖ q) = Σ p log(p/q) of two distributions over the same outcomes.</summary>
    public static double Exact(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        if (p.Count != q.Count) throw new ArgumentException($"KlEstimators.Exact: distributions of {p.Count} and {q.Count} outcomes.");
        double kl = 0;
        for (var i = 0; i < p.Count; i++)
            if (p[i] > 0) kl += p[i] * Math.Log(p[i] / q[i]);
        return kl;
    }
}
