using LlmCourse.Tensors;

namespace LlmCourse.Models;

/// <summary>
/// Token ids checked at the model's door. The embedding would name a bad id too, but only as
/// "Embedding: index out of range", far from the cause, which is almost always ids from a tokenizer
/// with a larger vocabulary than the model was built for (GPT-2's 50 257 into a 65-character model).
/// The MLP pads with the id <c>VocabSize</c>, so there an id one too large would not even fail.
/// </summary>
internal static class TokenIds
{
    /// <summary>The target that cross-entropy skips (F.CrossEntropy's default, PyTorch's): masked prompts and padding.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>Throws when <paramref name="tokens"/> is not Int32 or holds an id outside [0, vocabSize).</summary>
    /// <remarks>
    /// Checked on the CPU only: on a GPU the check would cost a copy back per step. There the embedding's and
    /// cross-entropy's own checks still catch a bad id, reported at the next read-back (loss.Item()).
    /// </remarks>
    public static void Check(Tensor tokens, int vocabSize, string model, string what = "token ids") =>
        Check(tokens, vocabSize, model, what, allowIgnored: false);

    /// <summary>Targets: token ids, or <see cref="IgnoreIndex"/> where a position must not count in the loss.</summary>
    public static void CheckTargets(Tensor targets, int vocabSize, string model) =>
        Check(targets, vocabSize, model, "targets", allowIgnored: true);

    static void Check(Tensor tokens, int vocabSize, string model, string what, bool allowIgnored)
    {
        if (tokens.DType != DType.Int32)
            throw new ArgumentException($"{model}: {what} must be Int32 token ids, got {tokens.DType} (use tokenizer.Encode, or Tensor.FromArray(int[] ...)).");
        if (tokens.Device != Device.Cpu) return;
        var ids = tokens.ToInt32Array();
        for (var i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocabSize && !(allowIgnored && ids[i] == IgnoreIndex))
                throw new ArgumentOutOfRangeException(what, ids[i],
                    $"{model}: {what} hold {ids[i]} (at flat position {i}), outside the model's vocabulary of {vocabSize} (ids 0 to {vocabSize - 1}). " +
                    "They come from a tokenizer with a larger vocabulary than the model was built for: encode with the model's own tokenizer, " +
                    "or build the model with VocabSize = tokenizer.VocabSize.");
    }
}
