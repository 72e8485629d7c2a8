namespace LlmCourse.Tokenizers;

/// <summary>
/// What every tokenizer in the course does: turn text into token ids and back. The progression
/// (each tokenizer one step beyond the last, after minbpe) is <see cref="CharTokenizer"/> (lessons 01-03), then bytes, then byte-level BPE, then
/// BPE with a regex pre-tokenizer, then GPT-2's pretrained ranks.
/// </summary>
public interface ITokenizer
{
    /// <summary>How many distinct token ids there are: ids run from 0 to <c>VocabSize - 1</c>.</summary>
    int VocabSize { get; }

    int[] Encode(string text);

    string Decode(IReadOnlyList<int> ids);
}
