using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>
/// Direct Preference Optimisation (Rafailov et al. 2023). The KL-constrained RLHF objective
/// max_π E[r(x, y)] − β KL(π ‖ π_ref) has the optimum π*(y|x) ∝ π_ref(y|x) exp(r(x, y)/β), so any reward
/// can be written through its optimal policy as r = β log(π*/π_ref) + β log Z(x). Put that into the
/// Bradley–Terry likelihood and Z cancels: the reward model's loss becomes a loss on the policy itself,
/// <code>
/// h = [log π(y_w) − log π_ref(y_w)] − [log π(y_l) − log π_ref(y_l)]       (the log-ratio margin)
/// L_DPO = −log σ(β h)
/// </code>
/// With label smoothing ε ("conservative DPO", for labels flipped with probability ε):
/// L = −(1 − ε) log σ(β h) − ε log σ(−β h). The log-probabilities are whatever the caller passes;
/// <see cref="PreferenceTrainer"/> uses sums over the response tokens, as the paper and TRL do.
/// </summary>
public static class Dpo
{
    /// <summary>h per pair: (B) tensors of sequence log-probabilities → (B).</summary>
    public static Tensor Margin(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected) =>
        (policyChosen - referenceChosen) - (policyRejected - referenceRejected);

    /// <summary>The mean DPO loss over the batch.</summary>
    public static Tensor Loss(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected,
        double beta = 0.1, double labelSmoothing = 0)
    {
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "Dpo.Loss: β must be positive.");
        if (labelSmoothing is < 0 or >= 0.5) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Dpo.Loss: label smoothing must be in [0, 0.5).");
        var logits = Margin(policyChosen, policyRejected, referenceChosen, referenceRejected) * (float)beta;
        var loss = -logits.LogSigmoid();
        if (labelSmoothing > 0) loss = loss * (float)(1 - labelSmoothing) - (-logits).LogSigmoid() * (float)labelSmoothing;
        return loss.Mean();
    }

    /// <summary>The implicit reward β·(log π(y) − log π_ref(y)) the policy assigns to each response (no gradient):
    /// the reward model DPO trains without ever building one.</summary>
    public static Tensor ImplicitReward(Tensor policyLogProbs, Tensor referenceLogProbs, double beta)
    {
        using var noGrad = Autograd.NoGrad();
        return (policyLogProbs - referenceLogProbs).Detach() * (float)beta;
    }
}

/// <summary>
/// Identity Preference Optimisation (Azar et al. 2023, "A General Theoretical Paradigm to Understand
/// Learning from Human Preferences"). DPO's −log σ(βh) keeps falling as the margin h grows, so on
/// pairs whose empirical preference is 1 (every pair seen once) it pushes h, and the KL, without bound:
/// the regularisation to π_ref stops working. IPO regresses the margin onto a finite target instead,
/// <code>
/// L_IPO = (h − 1/(2τ))²
/// </code>
/// whose minimum is h = 1/(2τ): a smaller τ lets the policy move further. Its authors (and TRL) use
/// log-probabilities averaged over the response tokens; <see cref="PreferenceTrainer"/> does too by default.
/// </summary>
public static class Ipo
{
    public static Tensor Loss(Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected, double tau = 0.1)
    {
        if (!(tau > 0)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "Ipo.Loss: τ must be positive.");
        var h = Dpo.Margin(policyChosen, policyRejected, referenceChosen, referenceRejected);
        return (h - (float)(1 / (2 * tau))).Square().Mean();
    }

    /// <summary>The margin IPO converges to on pairs seen once: 1/(2τ).</summary>
    public static double TargetMargin(double tau) => 1 / (2 * tau);
}
