using LlmCourse.Models;
using LlmCourse.Tensors;

namespace LlmCourse.Alignment;

/// <summary>Copies of a GPT: every alignment method starts from one model and needs several
/// (the policy it trains, the frozen reference, a reward model's backbone).</summary>
public static class Policies
{
    /// <summary>A new GPT with the same configuration, tokenizer and weights (its own memory).</summary>
    public static Gpt Copy(Gpt model, string? name = null)
    {
        var copy = new Gpt(model.Config, model.Tokenizer, new Generator(0), name ?? model.Name);
        copy.LoadStateDict(model.StateDict());
        if (!model.Training) copy.Eval();
        return copy;
    }

    /// <summary>The hidden state at one position per row: (B, L, C) at index[b] → (B, C).</summary>
    public static Tensor AtPositions(Tensor hidden, IReadOnlyList<int> index)
    {
        var (B, C) = (hidden.Size(0), hidden.Size(2));
        var gather = new int[B * C];
        for (var b = 0; b < B; b++) Array.Fill(gather, index[b], b * C, C);
        return hidden.Gather(1, Tensor.FromArray(gather, B, 1, C)).Squeeze(1);   // (B, 1, C) → (B, C)
    }
}
