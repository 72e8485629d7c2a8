using LlmCourse.Tensors.Formatting;
using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>A prompt and a response, as token ids.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record PromptResponse(int[] Prompt, int[] Response)
{
    public int Length => Prompt.Length + Response.Length;
}

/// <summary>
/// Prompt–response sequences side by side for one forward pass, right-padded to a common length.
/// A causal model never looks right, so padding after a sequence changes nothing before it; no
/// attention mask is needed, only masks on what is scored.
/// <code>
///   Tokens  (B, L)     prompt ++ response ++ padding            (a reward model reads all of it)
///   Inputs  (B, L−1)   Tokens without the last position         (a language model predicts from these)
///   Targets (B, L−1)   the next token where it is a response token, IgnoreIndex elsewhere
///   Mask    (B, L−1)   1 where Targets is a response token, 0 on the prompt and the padding
/// </code>
/// </summary>
public sealed class ResponseBatch
{
    public const int IgnoreIndex = -100;

    ResponseBatch(IReadOnlyList<PromptResponse> items, int length)
    {
        Items = items;
        var B = items.Count;
        Length = length;
        var tokens = new int[B * length];
        var inputs = new int[B * (length - 1)];
        var targets = new int[B * (length - 1)];
        var mask = new float[B * (length - 1)];
        for (var b = 0; b < B; b++)
        {
            var (prompt, response) = (items[b].Prompt, items[b].Response);
            prompt.CopyTo(tokens, b * length);
            response.CopyTo(tokens, b * length + prompt.Length);
            Array.Copy(tokens, b * length, inputs, b * (length - 1), length - 1);
            for (var t = 0; t < length - 1; t++)
            {
                var isResponse = t + 1 >= prompt.Length && t + 1 < items[b].Length;
                targets[b * (length - 1) + t] = isResponse ? tokens[b * length + t + 1] : IgnoreIndex;
                mask[b * (length - 1) + t] = isResponse ? 1f : 0f;
            }
        }
        Tokens = Tensor.FromArray(tokens, B, length);
        Inputs = Tensor.FromArray(inputs, B, length - 1);
        Targets = Tensor.FromArray(targets, B, length - 1);
        SafeTargets = Tensor.FromArray(targets.Select(t => Math.Max(t, 0)).ToArray(), B, length - 1);
        Mask = Tensor.FromArray(mask, B, length - 1);
        ResponseLengths = items.Select(i => i.Response.Length).ToArray();
        LastIndex = items.Select(i => i.Length - 1).ToArray();
    }

    /// <summary>Batches <paramref name="items"/>, padded to the longest (or to <paramref name="padTo"/>, so
    /// several batches line up with arrays computed for all of them).</summary>
    public static ResponseBatch Create(IReadOnlyList<PromptResponse> items, int? padTo = null)
    {
        if (items.Count == 0) throw new ArgumentException("ResponseBatch: no sequences to batch.", nameof(items));
        foreach (var item in items)
        {
            if (item.Prompt.Length == 0) throw new ArgumentException("ResponseBatch: a prompt needs at least one token (the response's first token is predicted from it).", nameof(items));
            if (item.Response.Length == 0) throw new ArgumentException("ResponseBatch: a response is empty; there is nothing to score.", nameof(items));
        }
        var longest = items.Max(i => i.Length);
        if (padTo is { } p && p < longest) throw new ArgumentException($"ResponseBatch: padTo {p} is shorter than the longest sequence ({longest}).", nameof(padTo));
        return new ResponseBatch(items, Math.Max(padTo ?? longest, 2));
    }

    public IReadOnlyList<PromptResponse> Items { get; }
    public int Count => Items.Count;
    /// <summary>L, the padded length of prompt ++ response.</summary>
    public int Length { get; }
    public Tensor Tokens { get; }
    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    /// <summary>Targets with the ignored positions set to 0, for Gather (the mask zeroes what they pick).</summary>
    public Tensor SafeTargets { get; }
    public Tensor Mask { get; }
    public int[] ResponseLengths { get; }
    /// <summary>Index in <see cref="Tokens"/> of each sequence's last real token.</summary>
    public int[] LastIndex { get; }
}
