using LlmCourse.Text;

namespace LlmCourse.Tokenizers;

/// <summary>
/// GPT-2's tokenizer: the <c>r50k_base</c> ranks (50,256 byte-level BPE tokens), GPT-2's
/// pre-tokenizer pattern, and <c>&lt;|endoftext|&gt;</c> = 50256. The ranks come from the dataset
/// catalog (downloaded once and checked by SHA-256, or read from <c>LLMCOURSE_DATA</c>).
/// </summary>
public static class Gpt2Tokenizer
{
    public const string EndOfText = "<|endoftext|>";
    public const int EndOfTextId = 50256;

    static readonly Lazy<RegexBpeTokenizer> shared = new(() => Load(Datasets.GetPath("r50k_base")));

    /// <summary>The tokenizer, loaded once per process.</summary>
    public static RegexBpeTokenizer Load() => shared.Value;

    /// <summary>The tokenizer from a given copy of <c>r50k_base.tiktoken</c>.</summary>
    public static RegexBpeTokenizer Load(string ranksPath) =>
        RegexBpeTokenizer.LoadTiktoken(ranksPath, PreTokenizer.Gpt2Pattern, new Dictionary<string, int> { [EndOfText] = EndOfTextId }, "r50k_base");
}
