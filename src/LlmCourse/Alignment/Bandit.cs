using LlmCourse.Tensors.Formatting;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;

namespace LlmCourse.Alignment;

[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record BanditPpoOptions
{
    public int Iterations { get; init; } = 300;
    public int BatchSize { get; init; } = 256;
    public int MiniBatchSize { get; init; } = 64;
    public int Epochs { get; init; } = 4;
    public float LearningRate { get; init; } = 0.02f;
    public double ClipRange { get; init; } = 0.2;
    public double ValueCoef { get; init; } = 0.1;
    public int Seed { get; init; } = 1;
}

/// <summary>
/// A one-token "language": K arms (tokens), a reference policy π_ref over them, a reward r(a) per arm.
/// The KL-regularised objective max_π E_π[r] − β KL(π ‖ π_ref) has a closed-form optimum,
/// <code>
/// π*(a) = π_ref(a) · exp(r(a)/β) / Z,     Z = Σ_a π_ref(a) exp(r(a)/β)
/// </code>
/// so every method of lessons 07–08 can be checked against the exact answer: PPO with the per-token KL
/// penalty, DPO and IPO on Bradley–Terry preferences. The policy is a vector of K logits.
/// </summary>
public sealed class Bandit
{
    public Bandit(IReadOnlyList<double> referenceProbs, IReadOnlyList<double> rewards)
    {
        if (referenceProbs.Count != rewards.Count || referenceProbs.Count < 2)
            throw new ArgumentException($"Bandit: need one reference probability and one reward per arm, at least 2 arms (got {referenceProbs.Count} and {rewards.Count}).");
        if (referenceProbs.Any(p => !(p > 0)) || Math.Abs(referenceProbs.Sum() - 1) > 1e-6)
            throw new ArgumentException("Bandit: the reference probabilities must be positive and sum to 1.", nameof(referenceProbs));
        ReferenceProbs = referenceProbs.ToArray();
        Rewards = rewards.ToArray();
    }

    public double[] ReferenceProbs { get; }
    public double[] Rewards { get; }
    public int Arms => Rewards.Length;

    /// <summary>π* ∝ π_ref · exp(r/β).</summary>
    public double[] OptimalPolicy(double beta)
    {
        var weights = ReferenceProbs.Select((p, a) => Math.Log(p) + Rewards[a] / beta).ToArray();
        var max = weights.Max();
        var unnormalised = weights.Select(w => Math.Exp(w - max)).ToArray();
        var z = unnormalised.Sum();
        return unnormalised.Select(u => u / z).ToArray();
    }

    public double ExpectedReward(IReadOnlyList<double> policy) => policy.Select((p, a) => p * Rewards[a]).Sum();
    public double Kl(IReadOnlyList<double> policy) => KlEstimators.Exact(policy, ReferenceProbs);
    /// <summary>E_π[r] − β KL(π ‖ π_ref), the objective π* maximises.</summary>
    public double Objective(IReadOnlyList<double> policy, double beta) => ExpectedReward(policy) - beta * Kl(policy);

    public static double TotalVariation(IReadOnlyList<double> p, IReadOnlyList<double> q) => 0.5 * p.Select((x, i) => Math.Abs(x - q[i])).Sum();

    Tensor ReferenceLogits() => Tensor.FromArray(ReferenceProbs.Select(p => (float)Math.Log(p)).ToArray(), Arms);

    static double[] Probabilities(Tensor logits)
    {
        using var noGrad = Autograd.NoGrad();
        return logits.Softmax(0).ToArray().Select(p => (double)p).ToArray();
    }

    static int Draw(double[] probs, Random random)
    {
        var u = random.NextDouble();
        for (var a = 0; a < probs.Length; a++) { u -= probs[a]; if (u < 0) return a; }
        return probs.Length - 1;
    }

    /// <summary>
    /// PPO on the bandit with the same pieces as on a language model: reward r(a) − β·k1 with
    /// k1 = log π(a) − log π_ref(a), a value baseline (a single learned number), one-step GAE,
    /// whitened advantages, several epochs of the clipped surrogate. Returns π after each iteration.
    /// </summary>
    public List<double[]> Ppo(double beta, BanditPpoOptions? options = null)
    {
        options ??= new BanditPpoOptions();
        var logits = ReferenceLogits().WithGrad();
        var value = Tensor.Zeros(1).WithGrad();
        var referenceLogProbs = ReferenceLogits().LogSoftmax(0);
        var optimizer = new Adam([logits, value], lr: options.LearningRate);
        var random = new Random(options.Seed);
        var policies = new List<double[]>();
        for (var iteration = 0; iteration < options.Iterations; iteration++)
        {
            var probs = Probabilities(logits);
            var actions = Enumerable.Range(0, options.BatchSize).Select(_ => Draw(probs, random)).ToArray();
            double[] oldLogProbs, advantages, returns, oldValues;
            using (Autograd.NoGrad())
            {
                var logProbs = logits.LogSoftmax(0).ToArray();
                var v = value.Item();
                oldLogProbs = actions.Select(a => (double)logProbs[a]).ToArray();
                oldValues = actions.Select(_ => (double)v).ToArray();
                advantages = new double[actions.Length];
                returns = new double[actions.Length];
                for (var i = 0; i < actions.Length; i++)
                {
                    var a = actions[i];
                    var reward = Rewards[a] - beta * KlEstimators.K1(logProbs[a], referenceLogProbs[a]);
                    var (adv, ret) = Gae.Compute([reward], [v]);                  // one step: A = R − V
                    advantages[i] = adv[0];
                    returns[i] = ret[0];
                }
            }
            advantages = Gae.Whiten(advantages);
            for (var epoch = 0; epoch < options.Epochs; epoch++)
            {
                var order = Enumerable.Range(0, actions.Length).OrderBy(_ => random.Next()).ToArray();
                foreach (var rows in order.Chunk(options.MiniBatchSize))
                {
                    var n = rows.Length;
                    Tensor Of(double[] source) => Tensor.FromArray(rows.Select(r => (float)source[r]).ToArray(), n);
                    var index = Tensor.FromArray(rows.Select(r => actions[r]).ToArray(), n);
                    var logProbs = logits.LogSoftmax(0).IndexSelect(0, index);         // (n)
                    var mask = Tensor.Ones(n);
                    var (pg, _, _) = PpoLosses.ClippedSurrogate(logProbs, Of(oldLogProbs), Of(advantages), mask, options.ClipRange);
                    var (vf, _) = PpoLosses.ClippedValueLoss(value.Expand(n), Of(oldValues), Of(returns), mask, double.MaxValue);
                    var loss = pg + vf * (float)options.ValueCoef;
                    optimizer.ZeroGrad();
                    loss.Backward();
                    optimizer.Step();
                }
            }
            policies.Add(Probabilities(logits));
        }
        return policies;
    }

    /// <summary>
    /// Preference pairs between two different arms drawn from π_ref, labelled by Bradley–Terry annotators:
    /// P(a₁ ≻ a₂) = σ((r(a₁) − r(a₂))/t).
    /// </summary>
    public List<(int Chosen, int Rejected)> SamplePreferences(int count, double temperature = 1, int seed = 1)
    {
        var annotators = new Annotators(temperature);
        var random = new Random(seed);
        var pairs = new List<(int, int)>(count);
        while (pairs.Count < count)
        {
            var a1 = Draw(ReferenceProbs, random);
            var a2 = Draw(ReferenceProbs, random);
            if (a1 == a2) continue;
            pairs.Add(annotators.PrefersFirst(Rewards[a1], Rewards[a2], random) ? (a1, a2) : (a2, a1));
        }
        return pairs;
    }

    /// <summary>
    /// DPO or IPO on the bandit, full batch (every pair in every step), Adam. Returns π and the mean
    /// log-ratio margin h over the pairs after each step. (One arm is one token, so summed and averaged
    /// log-probabilities coincide.)
    /// </summary>
    public (List<double[]> Policies, List<double> Margins) TrainPreferences(IReadOnlyList<(int Chosen, int Rejected)> pairs,
        PreferenceLoss loss, double beta, int steps, float learningRate = 0.05f)
    {
        var logits = ReferenceLogits().WithGrad();
        var referenceLogProbs = ReferenceLogits().LogSoftmax(0);
        var chosenIndex = Tensor.FromArray(pairs.Select(p => p.Chosen).ToArray(), pairs.Count);
        var rejectedIndex = Tensor.FromArray(pairs.Select(p => p.Rejected).ToArray(), pairs.Count);
        var refChosen = referenceLogProbs.IndexSelect(0, chosenIndex);
        var refRejected = referenceLogProbs.IndexSelect(0, rejectedIndex);
        var optimizer = new Adam([logits], lr: learningRate);
        var policies = new List<double[]>();
        var margins = new List<double>();
        for (var step = 0; step < steps; step++)
        {
            var logProbs = logits.LogSoftmax(0);
            var chosen = logProbs.IndexSelect(0, chosenIndex);
            var rejected = logProbs.IndexSelect(0, rejectedIndex);
            var value = loss == PreferenceLoss.Ipo
                ? Ipo.Loss(chosen, rejected, refChosen, refRejected, beta)
                : Dpo.Loss(chosen, rejected, refChosen, refRejected, beta);
            optimizer.ZeroGrad();
            value.Backward();
            optimizer.Step();
            policies.Add(Probabilities(logits));
            using var noGrad = Autograd.NoGrad();
            var after = logits.LogSoftmax(0);
            margins.Add(Dpo.Margin(after.IndexSelect(0, chosenIndex), after.IndexSelect(0, rejectedIndex), refChosen, refRejected).Mean().Item());
        }
        return (policies, margins);
    }
}
