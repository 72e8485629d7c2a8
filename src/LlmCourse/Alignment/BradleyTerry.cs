using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>
/// The Bradley–Terry model of pairwise preferences (Bradley and Terry 1952): each response has a
/// score r, and y_w is preferred to y_l with probability σ(r_w − r_l). A reward model is fit by
/// maximum likelihood on the labelled pairs: loss = −log σ(r_chosen − r_rejected), averaged.
/// </summary>
public static class BradleyTerry
{
    /// <summary>P(y₁ ≻ y₂) = σ(r₁ − r₂).</summary>
    public static double Probability(double reward1, double reward2) => 1 / (1 + Math.Exp(reward2 - reward1));

    /// <summary>
    /// The fraction of pairs ranked right, from their score differences r_chosen − r_rejected: a tie counts half,
    /// as a coin flip would score it, so a model that cannot tell the two apart (a policy equal to its reference)
    /// starts at 50 %, not 0.
    /// </summary>
    public static double Accuracy(IEnumerable<double> differences)
    {
        double correct = 0;
        var count = 0;
        foreach (var d in differences)
        {
            correct += d > 0 ? 1 : d == 0 ? 0.5 : 0;
            count++;
        }
        return count == 0 ? double.NaN : correct / count;
    }

    /// <summary>−log σ(r_chosen − r_rejected), averaged over the batch: (B), (B) → scalar.</summary>
    public static Tensor Loss(Tensor chosenRewards, Tensor rejectedRewards) => -(chosenRewards - rejectedRewards).LogSigmoid().Mean();
}
