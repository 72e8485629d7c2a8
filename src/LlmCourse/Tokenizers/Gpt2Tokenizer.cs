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

    // PublicationOnly: a failure (offline, no LLMCOURSE_DATA) is not remembered, so a later call,
    // once the file is there, loads it.
    static readonly Lazy<RegexBpeTokenizer> shared =
        new(() => Load(Datasets.GetPath("r50k_base")), LazyThreadSafetyMode.PublicationOnly);

    /// <summary>The tokenizer, loaded once per process.</summary>
    /// <exception cref="DatasetUnavailableException">The ranks are neither in <c>LLMCOURSE_DATA</c> nor in
    /// the cache and cannot be downloaded; the message names the file, the URL and <c>LLMCOURSE_DATA</c>.</exception>
    public static RegexBpeTokenizer Load() => shared.Value;

    /// <summary>
    /// The tokenizer, or null when its ranks cannot be had (offline, no <c>LLMCOURSE_DATA</c>), with a
    /// note to <paramref name="log"/> (the console by default) saying so and how to get them: for a
    /// lesson that compares with GPT-2 but still teaches without it.
    /// </summary>
    public static RegexBpeTokenizer? TryLoad(TextWriter? log = null) => TryLoad(Load, log);

    /// <summary><see cref="TryLoad(TextWriter?)"/> with the ranks from <paramref name="store"/>, not cached.</summary>
    public static RegexBpeTokenizer? TryLoad(DatasetStore store, TextWriter? log = null) =>
        TryLoad(() => Load(store.GetPath("r50k_base")), log);

    static RegexBpeTokenizer? TryLoad(Func<RegexBpeTokenizer> load, TextWriter? log)
    {
        try
        {
            return load();
        }
        catch (DatasetUnavailableException e) when (!DatasetStore.DataRequired)
        {
            (log ?? Console.Out).WriteLine($"Note: GPT-2's tokenizer is not available here, so the comparisons with it are skipped.\n{e.Message}");
            return null;
        }
        catch (DatasetUnavailableException e)
        {
            throw DatasetStore.FallbackRefused(e, "skipping the comparisons with GPT-2's tokenizer");
        }
    }

    /// <summary>The tokenizer from a given copy of <c>r50k_base.tiktoken</c>.</summary>
    public static RegexBpeTokenizer Load(string ranksPath) =>
        RegexBpeTokenizer.LoadTiktoken(ranksPath, PreTokenizer.Gpt2Pattern, new Dictionary<string, int> { [EndOfText] = EndOfTextId }, "r50k_base");
}
