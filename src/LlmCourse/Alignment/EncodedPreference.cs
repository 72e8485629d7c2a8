using LlmCourse.Tensors.Formatting;
using LlmCourse.Tokenizers;

namespace LlmCourse.Alignment;

/// <summary>A preference pair as token ids, ready for batching: the chosen and the rejected response to one prompt.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record EncodedPreference(int[] Prompt, int[] Chosen, int[] Rejected)
{
    public PromptResponse ChosenSequence => new(Prompt, Chosen);
    public PromptResponse RejectedSequence => new(Prompt, Rejected);

    public static EncodedPreference Encode(PreferencePair pair, ITokenizer tokenizer) =>
        new(tokenizer.Encode(pair.Prompt), tokenizer.Encode(pair.Chosen), tokenizer.Encode(pair.Rejected));

    public static List<EncodedPreference> Encode(IEnumerable<PreferencePair> pairs, ITokenizer tokenizer) =>
        pairs.Select(p => Encode(p, tokenizer)).Where(p => p.Chosen.Length > 0 && p.Rejected.Length > 0 && p.Prompt.Length > 0).ToList();
}
