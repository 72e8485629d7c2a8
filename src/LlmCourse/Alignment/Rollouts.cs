using LlmCourse.Models;
using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>
/// Sampling responses from a policy for many prompts at once, with the KV cache: prompts of the
/// same length run as one batch, the prompt in one forward pass, then one new token per step for
/// every row. This is the "generate" half of RL for language models, and most of its time.
/// </summary>
public static class Rollouts
{
    /// <summary>
    /// One response of <paramref name="maxNewTokens"/> tokens per prompt (fewer where
    /// <paramref name="stopToken"/> is sampled; the stop token is kept as the response's last token).
    /// Row i's randomness depends only on <paramref name="seed"/> and i, not on the batch it ran in.
    /// </summary>
    public static int[][] Sample(Gpt policy, IReadOnlyList<int[]> prompts, int maxNewTokens, Sampling? sampling = null,
        int seed = 0, int? stopToken = null, int batchSize = 64)
    {
        sampling ??= Sampling.Default;
        if (maxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), maxNewTokens, "Rollouts.Sample: generate at least one token.");
        var responses = new int[prompts.Count][];
        var longest = prompts.Count == 0 ? 0 : prompts.Max(p => p.Length);
        if (longest + maxNewTokens > policy.Config.BlockSize)
            throw new ArgumentException($"Rollouts.Sample: a {longest}-token prompt and {maxNewTokens} new tokens exceed the block size {policy.Config.BlockSize}; shorten them or use a larger block.");
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("Rollouts.Sample: a prompt needs at least one token.", nameof(prompts));

        using var inference = policy.Inference();
        var groups = Enumerable.Range(0, prompts.Count).GroupBy(i => prompts[i].Length);
        foreach (var group in groups)
        foreach (var rows in group.Chunk(batchSize))
        {
            using var scope = TensorScope.Begin();
            var B = rows.Length;
            var P = group.Key;
            var randoms = rows.Select(i => new Random(unchecked(seed * 1_000_003 + i))).ToArray();
            var generated = rows.Select(_ => new List<int>(maxNewTokens)).ToArray();
            var done = new bool[B];
            var caches = Enumerable.Range(0, policy.Config.Layers).Select(_ => new KvCache()).ToArray();
            var promptTokens = rows.SelectMany(i => prompts[i]).ToArray();
            var logits = policy.Forward(Tensor.FromArray(promptTokens, B, P), caches);     // (B, P, V)
            var V = logits.Size(2);
            var last = logits.Select(1, P - 1).Contiguous().ToArray();                      // (B·V)
            for (var step = 0; step < maxNewTokens; step++)
            {
                var next = new int[B];
                for (var b = 0; b < B; b++)
                {
                    next[b] = sampling.Sample(new ReadOnlySpan<float>(last, b * V, V), randoms[b]);
                    if (done[b]) continue;
                    generated[b].Add(next[b]);
                    if (next[b] == stopToken) done[b] = true;
                }
                if (step == maxNewTokens - 1 || done.All(d => d)) break;
                logits = policy.Forward(Tensor.FromArray(next, B, 1), caches);                // (B, 1, V)
                last = logits.Contiguous().ToArray();
            }
            for (var b = 0; b < B; b++) responses[rows[b]] = generated[b].ToArray();
        }
        return responses;
    }

    /// <summary>The same for text prompts: encodes, samples, decodes.</summary>
    public static string[] Sample(Gpt policy, IReadOnlyList<string> prompts, int maxNewTokens, Sampling? sampling = null, int seed = 0)
    {
        var tokens = prompts.Select(p => policy.Tokenizer.Encode(p)).ToArray();
        return Sample(policy, tokens, maxNewTokens, sampling, seed).Select(r => policy.Tokenizer.Decode(r)).ToArray();
    }
}
