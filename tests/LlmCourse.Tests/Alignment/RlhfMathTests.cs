using LlmCourse.Alignment;
using LlmCourse.Tensors;

namespace LlmCourse.Tests.Alignment;

/// <summary>The pieces of RLHF against values computed by hand from their definitions.</summary>
public sealed class RlhfMathTests
{
    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void AdaptiveKlController_InsideTheClip_MovesInProportionToTheRelativeError()
    {
        // KL 6.6 against a target of 6: e = 6.6/6 − 1 = 0.1 (a relative error, inside ±0.2, so not clipped);
        // β ← 0.1 · (1 + 0.1 · 10/100) = 0.1 · 1.01. At the target exactly e = 0 and β stays.
        var c = new AdaptiveKlController(0.1, target: 6, horizon: 100);
        c.Update(kl: 6.6, samples: 10);
        Assert.Equal(0.1 * 1.01, c.Coefficient, 12);
        c.Update(kl: 6, samples: 10);
        Assert.Equal(0.1 * 1.01, c.Coefficient, 12);
        c.Update(kl: 5.4, samples: 50);                         // e = −0.1: ×(1 − 0.1 · 50/100)
        Assert.Equal(0.1 * 1.01 * 0.95, c.Coefficient, 12);
    }

    [Fact]
    public void BradleyTerryLoss_AndGradient_MatchHandValues()
    {
        var chosen = Tensor.FromArray([1.0f, 0.5f], 2).WithGrad();
        var rejected = Tensor.FromArray([0.0f, 1.5f], 2).WithGrad();
        var loss = BradleyTerry.Loss(chosen, rejected);
        loss.Backward();
        // −log σ(1) = 0.31326, −log σ(−1) = 1.31326; mean 0.81326.
        Assert.Equal((-Math.Log(Sigmoid(1)) - Math.Log(Sigmoid(-1))) / 2, loss.Item(), 5);
        Assert.Equal(0.81326169, loss.Item(), 5);
        // d/dr_c of −log σ(r_c − r_r) / 2 = −(1 − σ(d)) / 2; the rejected side is its negative.
        var expected = new[] { -(1 - Sigmoid(1)) / 2, -(1 - Sigmoid(-1)) / 2 };
        var grad = chosen.Grad!.ToArray();
        var gradRejected = rejected.Grad!.ToArray();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i], grad[i], 5);
            Assert.Equal(-expected[i], gradRejected[i], 5);
        }
        Assert.Equal(Sigmoid(2 - 0.5), BradleyTerry.Probability(2, 0.5), 12);
    }

    [Fact]
    public void Gae_MatchesAHandRecursion_OnAThreeStepEpisode()
    {
        // γ = 1, λ = 0.95: δ = [0.6−0.5, 0.7−0.6, 1−0.7] = [0.1, 0.1, 0.3];
        // A₂ = 0.3, A₁ = 0.1 + 0.95·0.3 = 0.385, A₀ = 0.1 + 0.95·0.385 = 0.46575.
        var (advantages, returns) = Gae.Compute([0, 0, 1], [0.5, 0.6, 0.7], gamma: 1, lambda: 0.95);
        Assert.Equal([0.46575, 0.385, 0.3], advantages.Select(a => Math.Round(a, 10)));
        Assert.Equal([0.96575, 0.985, 1.0], returns.Select(r => Math.Round(r, 10)));

        // γ = 0.9, λ = 0.5: δ = [0.9·0.6−0.5, 0.9·0.7−0.6, 1−0.7] = [0.04, 0.03, 0.3];
        // A₂ = 0.3, A₁ = 0.03 + 0.45·0.3 = 0.165, A₀ = 0.04 + 0.45·0.165 = 0.11425.
        (advantages, _) = Gae.Compute([0, 0, 1], [0.5, 0.6, 0.7], gamma: 0.9, lambda: 0.5);
        Assert.Equal([0.11425, 0.165, 0.3], advantages.Select(a => Math.Round(a, 10)));
    }

    [Fact]
    public void Gae_WithLambdaOne_IsRewardToGoMinusValue_AndLambdaZero_IsTheTdError()
    {
        double[] rewards = [0.2, -0.1, 0.0, 1.0], values = [0.3, 0.1, 0.4, 0.2];
        var (mc, _) = Gae.Compute(rewards, values, 1, 1);
        var (td, _) = Gae.Compute(rewards, values, 1, 0);
        for (var t = 0; t < 4; t++)
        {
            Assert.Equal(rewards.Skip(t).Sum() - values[t], mc[t], 10);
            Assert.Equal(rewards[t] + (t + 1 < 4 ? values[t + 1] : 0) - values[t], td[t], 10);
        }
    }

    [Fact]
    public void Whiten_GivesMeanZeroAndUnitStandardDeviation()
    {
        var w = Gae.Whiten([1, 2, 3, 10]);
        Assert.Equal(0, w.Average(), 9);
        Assert.Equal(1, Math.Sqrt(w.Sum(x => x * x) / 3), 6);
    }

    [Fact]
    public void Whiten_WithoutShiftingTheMean_KeepsIt()
    {
        // TRL's whiten(shift_mean=False): unit standard deviation, the original mean added back. Of 1, 2, 3, 4 the mean
        // is 2.5 and the unbiased variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3.
        var w = Gae.Whiten([1, 2, 3, 4], shiftMean: false);
        var std = Math.Sqrt(5.0 / 3);
        double[] expected = [2.5 - 1.5 / std, 2.5 - 0.5 / std, 2.5 + 0.5 / std, 2.5 + 1.5 / std];
        for (var i = 0; i < 4; i++) Assert.Equal(expected[i], w[i], 6);
    }

    [Fact]
    public void ExactKl_SkipsOutcomesThePolicyNeverTakes()
    {
        // 0 · log(0 / q) is 0 by convention: KL([½, ½, 0] ‖ [¼, ¼, ½]) = ½ ln 2 + ½ ln 2 = ln 2.
        Assert.Equal(Math.Log(2), KlEstimators.Exact([0.5, 0.5, 0], [0.25, 0.25, 0.5]), 12);
    }

    [Fact]
    public void ClippedSurrogate_ClipFractionAndApproxKl_CountOnlyUnmaskedPositions()
    {
        // Log-ratios 0.1, −0.2 and 1.0, the last masked out; advantages +1 and ε = 0.2: ρ = e^0.1 (inside the range),
        // e^−0.2 (below it, but with A > 0 the unclipped branch is the larger: not clipped), e^1 (clipped, but masked).
        // Clip fraction 0 of 2. Approximate KL, the k3 estimator (ρ − 1) − log ρ averaged over the two counted positions:
        // (e^0.1 − 1.1 + e^−0.2 − 0.8) / 2.
        var old = Tensor.FromArray([-1f, -1f, -1f], 3);
        var logProbs = Tensor.FromArray([-0.9f, -1.2f, 0f], 3);
        var (_, clipFraction, approxKl) = PpoLosses.ClippedSurrogate(logProbs, old, Tensor.Ones(3), Tensor.FromArray([1f, 1f, 0f], 3), 0.2);
        Assert.Equal(0, clipFraction, 9);
        Assert.Equal((Math.Exp(0.1) - 1.1 + Math.Exp(-0.2) - 0.8) / 2, approxKl, 5);
        // Unmasked, the third position is clipped: 1 of 3.
        var (_, all, _) = PpoLosses.ClippedSurrogate(logProbs, old, Tensor.Ones(3), Tensor.Ones(3), 0.2);
        Assert.Equal(1.0 / 3, all, 6);
    }

    [Fact]
    public void ClippedSurrogate_TakesTheClippedBranchOnlyWhereTheRatioHasMovedPastEpsilonInTheAdvantagesDirection()
    {
        // ratios 1.5, 0.5, 1.1, 0.7 with advantages +1, +1, −1, −1 and ε = 0.2:
        //   ρ=1.5, A=+1: max(−1.5, −1.2) = −1.2  clipped: no gradient
        //   ρ=0.5, A=+1: max(−0.5, −0.8) = −0.5  unclipped: d/dlogπ = −Aρ = −0.5
        //   ρ=1.1, A=−1: max( 1.1,  1.1) =  1.1  inside the range: d/dlogπ = 1.1
        //   ρ=0.7, A=−1: max( 0.7,  0.8) =  0.8  clipped: no gradient
        double[] ratios = [1.5, 0.5, 1.1, 0.7];
        var old = Tensor.FromArray([-1f, -2f, -0.5f, -3f], 4);
        var logProbs = Tensor.FromArray(ratios.Select((r, i) => (float)(Math.Log(r) + old[i])).ToArray(), 4).WithGrad();
        var advantages = Tensor.FromArray([1f, 1f, -1f, -1f], 4);
        var (loss, clipFraction, _) = PpoLosses.ClippedSurrogate(logProbs, old, advantages, Tensor.Ones(4), 0.2);
        loss.Backward();
        Assert.Equal((-1.2 - 0.5 + 1.1 + 0.8) / 4, loss.Item(), 5);
        Assert.Equal(0.5, clipFraction, 9);
        var grad = logProbs.Grad!.ToArray();
        Assert.Equal(0, grad[0], 6);
        Assert.Equal(-0.5 / 4, grad[1], 5);
        Assert.Equal(1.1 / 4, grad[2], 5);
        Assert.Equal(0, grad[3], 6);
    }

    [Fact]
    public void ClippedSurrogate_IgnoresMaskedPositions()
    {
        var logProbs = Tensor.FromArray([-1f, -1f], 2).WithGrad();
        var (loss, _, _) = PpoLosses.ClippedSurrogate(logProbs, Tensor.FromArray([-1f, -1f], 2), Tensor.FromArray([2f, 100f], 2), Tensor.FromArray([1f, 0f], 2));
        loss.Backward();
        Assert.Equal(-2, loss.Item(), 5);           // ρ = 1: −A on the one counted position
        Assert.Equal(0, logProbs.Grad!.ToArray()[1], 6);
    }

    [Fact]
    public void ClippedValueLoss_UsesTheLargerOfTheClippedAndUnclippedErrors()
    {
        // old 0, new 1, return 2, ε = 0.2: unclipped (1−2)² = 1, clipped (0.2−2)² = 3.24 → ½·3.24, no gradient.
        // old 0, new 0.1, return −1: unclipped 1.21, clipped (0.1+1)² = 1.21 (inside) → ½·1.21, gradient 1.1 (split over the tie).
        var values = Tensor.FromArray([1f, 0.1f], 2).WithGrad();
        var (loss, fraction) = PpoLosses.ClippedValueLoss(values, Tensor.FromArray([0f, 0f], 2), Tensor.FromArray([2f, -1f], 2), Tensor.Ones(2), 0.2);
        loss.Backward();
        Assert.Equal(0.5 * (3.24 + 1.21) / 2, loss.Item(), 5);
        Assert.Equal(0.5, fraction, 9);
        Assert.Equal(0, values.Grad!.ToArray()[0], 6);
        Assert.Equal(1.1 / 2, values.Grad!.ToArray()[1], 5);
    }

    [Fact]
    public void KlEstimators_K1AndK3AreUnbiased_K2IsCloseOnlyForCloseDistributions()
    {
        double[] p = [0.5, 0.3, 0.2], q = [0.4, 0.4, 0.2];
        var exact = p.Select((x, i) => x * Math.Log(x / q[i])).Sum();
        Assert.Equal(exact, KlEstimators.Exact(p, q), 12);
        double Expect(Func<double, double, double> k) => p.Select((x, i) => x * k(Math.Log(x), Math.Log(q[i]))).Sum();
        Assert.Equal(exact, Expect(KlEstimators.K1), 12);
        Assert.Equal(exact, Expect(KlEstimators.K3), 12);
        Assert.InRange(Expect(KlEstimators.K2), exact * 0.9, exact * 1.1);   // close distributions: k2 ≈ KL

        // Far apart: k2's bias is large, k1 and k3 stay exact in expectation.
        double[] far = [0.9, 0.05, 0.05], uniform = [1 / 3.0, 1 / 3.0, 1 / 3.0];
        var farKl = KlEstimators.Exact(far, uniform);
        double ExpectFar(Func<double, double, double> k) => far.Select((x, i) => x * k(Math.Log(x), Math.Log(uniform[i]))).Sum();
        Assert.Equal(farKl, ExpectFar(KlEstimators.K1), 12);
        Assert.Equal(farKl, ExpectFar(KlEstimators.K3), 12);
        Assert.True(Math.Abs(ExpectFar(KlEstimators.K2) - farKl) > 0.1 * farKl, "k2 should be visibly biased far from the reference");

        // Single samples: k1 can be negative, k3 never is.
        Assert.True(KlEstimators.K1(Math.Log(0.3), Math.Log(0.4)) < 0);
        Assert.True(KlEstimators.K3(Math.Log(0.3), Math.Log(0.4)) > 0);
    }

    [Fact]
    public void KlEstimators_MonteCarlo_AgreesWithTheExactKl()
    {
        double[] p = [0.6, 0.3, 0.1], q = [0.3, 0.3, 0.4];
        var exact = KlEstimators.Exact(p, q);
        var random = new Random(5);
        double k1 = 0, k3 = 0;
        const int n = 200_000;
        for (var s = 0; s < n; s++)
        {
            var u = random.NextDouble();
            var a = u < p[0] ? 0 : u < p[0] + p[1] ? 1 : 2;
            k1 += KlEstimators.K1(Math.Log(p[a]), Math.Log(q[a]));
            k3 += KlEstimators.K3(Math.Log(p[a]), Math.Log(q[a]));
        }
        Assert.Equal(exact, k1 / n, 2);
        Assert.Equal(exact, k3 / n, 2);
    }

    [Fact]
    public void K3Tensor_MatchesTheScalarFormula()
    {
        var lp = Tensor.FromArray([-1f, -2f], 2);
        var lr = Tensor.FromArray([-1.5f, -1f], 2);
        var k = KlEstimators.K3(lp, lr).ToArray();
        Assert.Equal(KlEstimators.K3(-1, -1.5), k[0], 5);
        Assert.Equal(KlEstimators.K3(-2, -1), k[1], 5);
    }

    [Fact]
    public void AdaptiveKlController_RaisesTheCoefficientAboveTheTarget_AndLowersItBelow()
    {
        var c = new AdaptiveKlController(0.1, target: 6, horizon: 100);
        c.Update(kl: 12, samples: 10);                           // error clipped to +0.2: ×(1 + 0.2·10/100)
        Assert.Equal(0.1 * 1.02, c.Coefficient, 12);
        c.Update(kl: 3, samples: 10);                            // error −0.5 clipped to −0.2
        Assert.Equal(0.1 * 1.02 * 0.98, c.Coefficient, 12);
    }

    [Fact]
    public void GroupAdvantages_AreStandardisedWithinEachGroup()
    {
        var a = GrpoTrainer.GroupAdvantages([1, 0, 0, 0, 5, 5, 5, 5], groupSize: 4);
        var std = Math.Sqrt((0.75 * 0.75 + 3 * 0.25 * 0.25) / 3);   // sample std of [1, 0, 0, 0]
        Assert.Equal(0.75 / (std + 1e-4), a[0], 6);
        Assert.Equal(-0.25 / (std + 1e-4), a[1], 6);
        Assert.All(a.Skip(4), x => Assert.Equal(0, x, 9));           // every sample scored the same: no signal
    }
}
