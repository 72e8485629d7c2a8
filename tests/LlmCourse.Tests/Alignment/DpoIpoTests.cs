using LlmCourse.Alignment;
using LlmCourse.Tensors;

namespace LlmCourse.Tests.Alignment;

/// <summary>DPO and IPO losses against hand values, and their behaviour on the bandit whose optimum is known.</summary>
public sealed class DpoIpoTests
{
    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // One pair: log π(y_w) = −1, log π_ref(y_w) = −2, log π(y_l) = −3, log π_ref(y_l) = −2.5:
    // h = (−1 + 2) − (−3 + 2.5) = 1 − (−0.5) = 1.5.
    static (Tensor Pc, Tensor Pr, Tensor Rc, Tensor Rr) OnePair() =>
        (Tensor.FromArray([-1f], 1).WithGrad(), Tensor.FromArray([-3f], 1).WithGrad(), Tensor.FromArray([-2f], 1), Tensor.FromArray([-2.5f], 1));

    [Fact]
    public void LabelSmoothingOfOneHalf_IsRefused()
    {
        // At ε = ½ the conservative loss is ½(−log σ(βh) − log σ(−βh)), the same for h and −h: the labels carry nothing.
        var t = Tensor.FromArray([0f], 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dpo.Loss(t, t, t, t, labelSmoothing: 0.5));
        Assert.True(float.IsFinite(Dpo.Loss(t, t, t, t, labelSmoothing: 0.499).Item()));
    }

    [Fact]
    public void PreferenceOptions_ScoreDpoBySummedAndIpoByMeanLogProbabilities()
    {
        // Rafailov et al. sum a response's token log-probabilities; Azar et al.'s IPO experiments (and TRL's ipo) average them.
        Assert.Equal(LogProbReduction.Sum, new PreferenceOptions().Reduction);
        Assert.Equal(LogProbReduction.Mean, new PreferenceOptions { Loss = PreferenceLoss.Ipo }.Reduction);
        Assert.Equal(LogProbReduction.Sum, new PreferenceOptions { Loss = PreferenceLoss.Ipo, LogProbs = LogProbReduction.Sum }.Reduction);
    }

    [Fact]
    public void DpoLoss_AndGradient_MatchHandValues()
    {
        var (pc, pr, rc, rr) = OnePair();
        var loss = Dpo.Loss(pc, pr, rc, rr, beta: 0.1);
        loss.Backward();
        Assert.Equal(-Math.Log(Sigmoid(0.15)), loss.Item(), 5);          // log(1 + e^−0.15) ≈ 0.62096
        Assert.Equal(0.62096, loss.Item(), 4);
        // dL/dlogπ(y_w) = −β(1 − σ(βh)); dL/dlogπ(y_l) = +β(1 − σ(βh)).
        Assert.Equal(-0.1 * (1 - Sigmoid(0.15)), pc.Grad!.Item(), 5);
        Assert.Equal(0.1 * (1 - Sigmoid(0.15)), pr.Grad!.Item(), 5);
    }

    [Fact]
    public void ConservativeDpo_MixesBothDirections()
    {
        var (pc, pr, rc, rr) = OnePair();
        var loss = Dpo.Loss(pc, pr, rc, rr, beta: 1, labelSmoothing: 0.2);
        Assert.Equal(-0.8 * Math.Log(Sigmoid(1.5)) - 0.2 * Math.Log(Sigmoid(-1.5)), loss.Item(), 5);
    }

    [Fact]
    public void IpoLoss_AndGradient_MatchHandValues()
    {
        var (pc, pr, rc, rr) = OnePair();
        var loss = Ipo.Loss(pc, pr, rc, rr, tau: 0.5);                   // target 1/(2τ) = 1
        loss.Backward();
        Assert.Equal(0.25, loss.Item(), 5);                              // (1.5 − 1)²
        Assert.Equal(1.0, pc.Grad!.Item(), 5);                           // 2(h − 1)
        Assert.Equal(-1.0, pr.Grad!.Item(), 5);
        Assert.Equal(1.0, Ipo.TargetMargin(0.5), 12);
    }

    [Fact]
    public void ImplicitReward_IsBetaTimesTheLogRatio()
    {
        var r = Dpo.ImplicitReward(Tensor.FromArray([-1f, -4f], 2), Tensor.FromArray([-2f, -3f], 2), 0.5).ToArray();
        Assert.Equal(0.5, r[0], 6);
        Assert.Equal(-0.5, r[1], 6);
    }

    [Fact]
    public void Bandit_OptimalPolicy_IsTheReferenceTiltedByExpRewardOverBeta()
    {
        var bandit = new Bandit([0.5, 0.3, 0.2], [0, 1, 2]);
        var w = new[] { 0.5, 0.3 * Math.E, 0.2 * Math.E * Math.E };
        var expected = w.Select(x => x / w.Sum()).ToArray();
        var optimal = bandit.OptimalPolicy(beta: 1);
        for (var a = 0; a < 3; a++) Assert.Equal(expected[a], optimal[a], 12);
        // π* maximises E[r] − β KL: any nearby policy scores lower.
        var objective = bandit.Objective(optimal, 1);
        Assert.True(bandit.Objective([optimal[0] + 0.02, optimal[1] - 0.01, optimal[2] - 0.01], 1) < objective);
        Assert.True(bandit.Objective([0.5, 0.3, 0.2], 1) < objective);
    }

    [Fact]
    public void Dpo_WithEnoughData_ApproachesTheKlRegularisedOptimum()
    {
        // Stated distance: total variation below 0.03 from π* ∝ π_ref·exp(r/β) with 20,000 pairs.
        var bandit = new Bandit([0.4, 0.3, 0.2, 0.1], [0, 0.5, 1, 2]);
        var pairs = bandit.SamplePreferences(20_000, temperature: 1, seed: 3);
        foreach (var beta in new[] { 1.0, 0.5 })
        {
            var (policies, _) = bandit.TrainPreferences(pairs, PreferenceLoss.Dpo, beta, steps: 600, learningRate: 0.05f);
            var target = bandit.OptimalPolicy(beta);
            var distance = Bandit.TotalVariation(policies[^1], target);
            Assert.True(distance < 0.03, $"β = {beta}: DPO's policy [{string.Join(", ", policies[^1].Select(p => p.ToString("F3")))}] is {distance:F3} from π* [{string.Join(", ", target.Select(p => p.ToString("F3")))}]");
        }
        // And the two β give different policies (the check can tell them apart).
        Assert.True(Bandit.TotalVariation(bandit.OptimalPolicy(1), bandit.OptimalPolicy(0.5)) > 0.1);
    }

    [Fact]
    public void OnDeterministicPairs_DpoMarginGrowsWithoutBound_WhileIpoSettlesAtOneOverTwoTau()
    {
        var bandit = new Bandit([0.25, 0.25, 0.25, 0.25], [0, 0, 0, 0]);
        var pairs = Enumerable.Repeat((Chosen: 0, Rejected: 1), 32).ToArray();   // one comparison, always won: empirical preference 1
        var (_, dpo) = bandit.TrainPreferences(pairs, PreferenceLoss.Dpo, beta: 0.5, steps: 1500, learningRate: 0.05f);
        Assert.True(dpo[1499] > dpo[999] + 0.5 && dpo[999] > dpo[499] + 0.5, $"DPO's margin should keep growing: {dpo[499]:F2}, {dpo[999]:F2}, {dpo[1499]:F2}");
        Assert.True(dpo[1499] > 10, $"DPO's margin after 1500 steps: {dpo[1499]:F2}");

        const double tau = 0.5;
        var (_, ipo) = bandit.TrainPreferences(pairs, PreferenceLoss.Ipo, tau, steps: 1500, learningRate: 0.05f);
        Assert.True(Math.Abs(ipo[^1] - Ipo.TargetMargin(tau)) < 0.02, $"IPO's margin {ipo[^1]:F4} should settle at 1/(2τ) = {Ipo.TargetMargin(tau)}");
        Assert.True(Math.Abs(ipo[999] - ipo[^1]) < 0.02, "IPO's margin should have stopped moving");
    }

    [Fact]
    public void Ppo_OnTheBandit_ApproachesTheKlRegularisedOptimum()
    {
        // Stated distance: the mean policy of the last 50 iterations within total variation 0.05 of π*.
        var bandit = new Bandit([0.5, 0.3, 0.2], [0, 1, 2]);
        const double beta = 1;
        var policies = bandit.Ppo(beta, new BanditPpoOptions { Iterations = 300, Seed = 2 });
        var mean = Enumerable.Range(0, 3).Select(a => policies.TakeLast(50).Average(p => p[a])).ToArray();
        var target = bandit.OptimalPolicy(beta);
        var distance = Bandit.TotalVariation(mean, target);
        Assert.True(distance < 0.05, $"PPO's policy [{string.Join(", ", mean.Select(p => p.ToString("F3")))}] is {distance:F3} from π* [{string.Join(", ", target.Select(p => p.ToString("F3")))}]");
        // It moved: the reference itself is far from π*.
        Assert.True(Bandit.TotalVariation(bandit.ReferenceProbs, target) > 0.2);
    }
}
