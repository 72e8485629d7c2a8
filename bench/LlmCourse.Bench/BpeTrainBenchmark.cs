using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Bench;

/// <summary>
/// Training a byte-level BPE with GPT-2's pre-tokenizer to a 1,024-token vocabulary on
/// TinyShakespeare (pre-tokenizing and counting the text included), against a fixed anchor of one
/// second: R = 1 s / our time. The trainer updates pair counts incrementally (BpeTrainer.Train);
/// for scale, the basic tokenizer (no pre-tokenizer: every byte of the text in one sequence) is
/// timed too. Options: --repeats N (default 3), --vocab N (default 1024).
/// </summary>
public sealed class BpeTrainBenchmark : Benchmark
{
    const double AnchorSeconds = 1.0;

    public override string Name => "bpe-train";

    public override string Description => "BPE training to 1,024 tokens on TinyShakespeare (s), vs a 1 s anchor";

    public override BenchResult Run(BenchOptions options)
    {
        var repeats = options.Int("repeats", 3);
        var vocabSize = options.Int("vocab", 1024);
        var text = Datasets.ReadText("tinyshakespeare");

        RegexBpeTokenizer? trained = null;
        var seconds = BestSeconds(() => trained = RegexBpeTokenizer.Train(text, vocabSize), warmup: 1, repeats);
        Console.WriteLine($"  [ours] {trained!.Merges.Count} merges with GPT-2's pattern, best {seconds:F3} s over {repeats} runs");
        Console.WriteLine($"  [ours] first merges: {string.Join(", ", trained.Merges.Take(8).Select(m => $"'{trained.Vocabulary.Display(m.Id)}'"))}");

        BpeTokenizer? basic = null;
        var basicSeconds = BestSeconds(() => basic = BpeTokenizer.Train(text, vocabSize), warmup: 0, 1);
        Console.WriteLine($"  [ours] basic tokenizer (no pre-tokenizer, {text.Length:N0} bytes in one sequence): {basic!.Merges.Count} merges in {basicSeconds:F3} s");

        return new BenchResult(Name, seconds, AnchorSeconds, "s", HigherIsBetter: false);
    }
}
