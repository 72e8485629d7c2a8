namespace LlmCourse.Alignment;

/// <summary>
/// Generalised advantage estimation (Schulman et al. 2016). For one episode of T steps with rewards
/// r_t and value estimates V_t (V_T = 0 after the last step):
/// <code>
/// δ_t = r_t + γ V_{t+1} − V_t          (how much better step t went than the value expected)
/// A_t = δ_t + γλ A_{t+1}               (A_{T} = 0), i.e. A_t = Σ_k (γλ)^k δ_{t+k}
/// returns_t = A_t + V_t                (the value head's regression targets)
/// </code>
/// λ = 0 trusts the value head (A = δ, low variance, biased); λ = 1 ignores it (A = the sum of
/// rewards to go minus V, unbiased, noisy). RLHF uses γ = 1 (an episode is one short response) and λ = 0.95.
/// </summary>
public static class Gae
{
    public static (double[] Advantages, double[] Returns) Compute(IReadOnlyList<double> rewards, IReadOnlyList<double> values, double gamma = 1, double lambda = 0.95)
    {
        if (rewards.Count != values.Count) throw new ArgumentException($"Gae: {rewards.Count} rewards but {values.Count} values; one of each per step.");
        var T = rewards.Count;
        var advantages = new double[T];
        var returns = new double[T];
        double next = 0, nextValue = 0;
        for (var t = T - 1; t >= 0; t--)
        {
            var delta = rewards[t] + gamma * nextValue - values[t];
            next = delta + gamma * lambda * next;
            advantages[t] = next;
            returns[t] = next + values[t];
            nextValue = values[t];
        }
        return (advantages, returns);
    }

    /// <summary>Advantages whitened to mean 0 and standard deviation 1 over a whole batch: the policy
    /// loss's scale then no longer depends on the reward's, so one learning rate fits every task.</summary>
    public static double[] Whiten(IReadOnlyList<double> values, bool shiftMean = true)
    {
        var n = values.Count;
        if (n == 0) return [];
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, n - 1);
        var scale = 1 / Math.Sqrt(variance + 1e-8);
        return values.Select(v => ((v - mean) * scale) + (shiftMean ? 0 : mean)).ToArray();
    }
}
