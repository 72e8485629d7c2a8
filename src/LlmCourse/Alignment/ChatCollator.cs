using LlmCourse.Tensors.Formatting;
using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>A batch of conversations: inputs and targets (B, T) Int32, and each row's real length.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record ChatBatch(Tensor Inputs, Tensor Targets, int[] Lengths)
{
    /// <summary>Targets that count in the loss (not <see cref="ChatCollator.IgnoreIndex"/>).</summary>
    public int CountedTargets => Targets.ToInt32Array().Count(t => t != ChatCollator.IgnoreIndex);
}

/// <summary>
/// Turns rendered conversations into a training batch. Position i of a row predicts token i + 1, so
/// inputs are ids[0 … n−2] and targets ids[1 … n−1]; a target whose token is not the assistant's
/// (mask 0) becomes <see cref="IgnoreIndex"/>, which the cross-entropy skips: its loss and its gradient
/// are exactly zero, and the mean is taken over the counted targets only. Rows are padded on the
/// right to the longest row of the batch with <c>&lt;|pad|&gt;</c> (targets −100), which the causal mask
/// keeps from affecting the real positions before them. With <c>maskPrompt: false</c> every real
/// token is a target (the ablation: the model also learns to predict the user's words).
/// </summary>
public sealed class ChatCollator(ChatTemplate template, int maxLength, bool maskPrompt = true)
{
    /// <summary>PyTorch's default ignore_index, which <c>F.CrossEntropy</c> also uses.</summary>
    public const int IgnoreIndex = -100;

    public bool MaskPrompt { get; } = maskPrompt;
    public int MaxLength { get; } = maxLength;

    /// <summary>Inputs and targets of one conversation, before padding (cut to <see cref="MaxLength"/> positions).</summary>
    public (int[] Inputs, int[] Targets) Shift(RenderedConversation conversation)
    {
        var n = Math.Min(conversation.Length - 1, MaxLength);
        if (n < 1) throw new ArgumentException($"ChatCollator: a conversation of {conversation.Length} tokens has nothing to predict.", nameof(conversation));
        var inputs = conversation.Ids[..n];
        var targets = new int[n];
        for (var i = 0; i < n; i++)
            targets[i] = !MaskPrompt || conversation.Mask[i + 1] == 1 ? conversation.Ids[i + 1] : IgnoreIndex;
        return (inputs, targets);
    }

    public ChatBatch Collate(IReadOnlyList<RenderedConversation> conversations)
    {
        if (conversations.Count == 0) throw new ArgumentException("ChatCollator: the batch is empty.", nameof(conversations));
        var rows = conversations.Select(Shift).ToArray();
        var T = rows.Max(r => r.Inputs.Length);
        var B = rows.Length;
        var inputs = new int[B * T];
        var targets = new int[B * T];
        Array.Fill(inputs, template.PadId);
        Array.Fill(targets, IgnoreIndex);
        for (var b = 0; b < B; b++)
        {
            rows[b].Inputs.CopyTo(inputs, b * T);
            rows[b].Targets.CopyTo(targets, b * T);
        }
        return new ChatBatch(Tensor.FromArray(inputs, B, T), Tensor.FromArray(targets, B, T), rows.Select(r => r.Inputs.Length).ToArray());
    }
}
