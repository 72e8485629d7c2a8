using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Models;

/// <summary>
/// How to pick the next token from a model's scores. <c>Temperature</c> divides the logits
/// (below 1 sharpens, above 1 flattens, 0 takes the most likely token); <c>TopK</c> keeps the k
/// most likely tokens (0: all); <c>TopP</c> keeps the smallest set of most likely tokens whose
/// probabilities add up to at least p (1: all), as in Holtzman et al. 2019's nucleus sampling. With both,
/// top-k goes first and top-p takes its nucleus of the k tokens' renormalised probabilities (the order
/// Hugging Face's <c>generate</c> and llama.cpp apply them in).
/// </summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record Sampling(float Temperature = 1f, int TopK = 0, float TopP = 1f)
{
    public static Sampling Default { get; } = new();
    public static Sampling Greedy { get; } = new(Temperature: 0f);

    /// <summary>A token id drawn from <paramref name="logits"/> (natural-log scores, <c>-∞</c> allowed).</summary>
    public int Sample(ReadOnlySpan<float> logits, Random random)
    {
        if (Temperature < 0 || float.IsNaN(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Sampling: temperature must be 0 or more.");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "Sampling: top-k must be 0 (all) or more.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "Sampling: top-p must be in (0, 1].");
        if (logits.Length == 0) throw new ArgumentException("Sampling: no logits to sample from.", nameof(logits));

        var best = 0;
        for (var i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        if (float.IsNegativeInfinity(logits[best]) || float.IsNaN(logits[best]))
            throw new ArgumentException($"Sampling: every one of the {logits.Length} logits is -∞ or NaN.", nameof(logits));
        if (Temperature == 0) return best;

        // Softmax at this temperature, shifted by the largest logit so exp never overflows.
        var probs = new double[logits.Length];
        var order = new int[logits.Length];
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            probs[i] = Math.Exp((logits[i] - (double)logits[best]) / Temperature);
            sum += probs[i];
            order[i] = i;
        }
        for (var i = 0; i < probs.Length; i++) probs[i] /= sum;

        // Most likely first (ties by id, so a seed always gives the same tokens); keep a prefix.
        Array.Sort(order, (a, b) => probs[b].CompareTo(probs[a]) is var c && c != 0 ? c : a.CompareTo(b));
        var keep = TopK > 0 ? Math.Min(TopK, order.Length) : order.Length;
        double kept = 0;
        for (var i = 0; i < keep; i++) kept += probs[order[i]];
        if (TopP < 1)
        {
            // The nucleus of what top-k kept, renormalised: with TopK 2 over 0.5, 0.3, … the first token alone is 0.625 ≥ 0.6.
            double cumulative = 0;
            for (var i = 0; i < keep; i++)
            {
                cumulative += probs[order[i]];
                if (cumulative >= TopP * kept) { (keep, kept) = (i + 1, cumulative); break; }
            }
        }

        var u = random.NextDouble() * kept;
        for (var i = 0; i < keep; i++)
        {
            u -= probs[order[i]];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }
}
