using System.Text;
using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Bench;

/// <summary>
/// GPT-2 encoding throughput on TinyShakespeare, against js-tiktoken encoding the same file in the
/// same run (bench/anchors/bpe_encode.mjs). Each timed run uses a fresh tokenizer, so our cache of
/// pre-token ids starts empty every time: what is measured is encoding a new text, not a lookup.
/// Options: --repeats N (default 5).
/// </summary>
public sealed class BpeEncodeBenchmark : Benchmark
{
    public override string Name => "bpe-encode";

    public override string Description => "GPT-2 encoding of TinyShakespeare (MB/s), vs js-tiktoken";

    public override BenchResult Run(BenchOptions options)
    {
        var repeats = options.Int("repeats", 5);
        var path = Datasets.GetPath("tinyshakespeare");
        var text = File.ReadAllText(path);
        var megabytes = Encoding.UTF8.GetByteCount(text) / 1e6;
        var gpt2 = Gpt2Tokenizer.Load();

        var tokens = 0;
        var seconds = BestSeconds(() =>
        {
            var fresh = new RegexBpeTokenizer(gpt2.Vocabulary, gpt2.Pattern, gpt2.SpecialTokens, "r50k_base");
            tokens = fresh.Encode(text).Length;
        }, warmup: 2, repeats);
        Console.WriteLine($"  [ours] {tokens} tokens, best {seconds:F3} s over {repeats} runs (cache emptied each run)");

        var anchor = RunAnchor("node", "bpe_encode.mjs", path, repeats.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new BenchResult(Name, megabytes / seconds, anchor, "MB/s");
    }
}
