using LlmCourse.Models;
using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>How per-token log-probabilities become one number per response.</summary>
public enum LogProbReduction
{
    /// <summary>log π(y|x) = Σ_t log π(y_t | x, y_&lt;t): the sequence's log-probability (DPO, as the paper and TRL).</summary>
    Sum,
    /// <summary>The same sum divided by the response's length (IPO, as its authors advise; TRL's loss_type="ipo").</summary>
    Mean,
}

/// <summary>
/// Log-probabilities of responses under a language model, with the prompt masked: only the
/// response tokens are scored, each given the prompt and the response before it.
/// </summary>
public static class SequenceLogProbs
{
    /// <summary>log π(y_t | x, y_&lt;t) at every response position, 0 on the prompt and padding: (B, L−1).</summary>
    public static Tensor PerToken(Gpt model, ResponseBatch batch) => PerToken(model.Forward(batch.Inputs), batch);

    /// <summary>The same from logits already computed: (B, L−1, V) → (B, L−1).</summary>
    public static Tensor PerToken(Tensor logits, ResponseBatch batch)
    {
        var logProbs = logits.LogSoftmax(-1);                                          // (B, L−1, V)
        return logProbs.Gather(2, batch.SafeTargets.Unsqueeze(2)).Squeeze(2) * batch.Mask;   // (B, L−1)
    }

    /// <summary>The entropy of the next-token distribution at each position, −Σ_v p log p: (B, L−1, V) → (B, L−1).</summary>
    public static Tensor Entropy(Tensor logits)
    {
        var logProbs = logits.LogSoftmax(-1);
        return -(logProbs.Exp() * logProbs).Sum(-1);
    }

    /// <summary>One log-probability per response: (B, L−1) → (B).</summary>
    public static Tensor Reduce(Tensor perToken, ResponseBatch batch, LogProbReduction reduction)
    {
        var sum = perToken.Sum(1);                                                     // (B)
        return reduction == LogProbReduction.Sum ? sum
            : sum / Tensor.FromArray(batch.ResponseLengths.Select(n => (float)n).ToArray(), batch.Count);
    }

    public static Tensor Compute(Gpt model, ResponseBatch batch, LogProbReduction reduction = LogProbReduction.Sum) =>
        Reduce(PerToken(model, batch), batch, reduction);

    /// <summary>Log-probabilities without gradients, in eval mode, in batches: one per item.</summary>
    public static double[] Evaluate(Gpt model, IReadOnlyList<PromptResponse> items, LogProbReduction reduction = LogProbReduction.Sum, int batchSize = 64)
    {
        using var inference = model.Inference();
        var result = new double[items.Count];
        for (var start = 0; start < items.Count; start += batchSize)
        {
            using var scope = TensorScope.Begin();
            var chunk = items.Skip(start).Take(batchSize).ToArray();
            var values = Compute(model, ResponseBatch.Create(chunk), reduction).ToArray();
            for (var i = 0; i < values.Length; i++) result[start + i] = values[i];
        }
        return result;
    }
}

/// <summary>
/// The frozen reference model's log-probabilities, computed once per item and kept: the reference
/// never changes, so DPO and IPO need one reference forward pass per pair for the whole run, not one per step.
/// </summary>
public sealed class ReferenceLogProbs
{
    readonly double[] values;

    public ReferenceLogProbs(Gpt reference, IReadOnlyList<PromptResponse> items, LogProbReduction reduction, int batchSize = 64)
    {
        values = SequenceLogProbs.Evaluate(reference, items, reduction, batchSize);
        Reduction = reduction;
        ForwardPasses = (items.Count + batchSize - 1) / batchSize;
    }

    public LogProbReduction Reduction { get; }
    /// <summary>Batched forward passes the cache took to fill (its whole cost).</summary>
    public int ForwardPasses { get; }
    public int Count => values.Length;
    public double this[int index] => values[index];

    /// <summary>The cached values of the given items as a tensor: (indices.Count).</summary>
    public Tensor Gather(IReadOnlyList<int> indices) =>
        Tensor.FromArray(indices.Select(i => (float)values[i]).ToArray(), indices.Count);
}
