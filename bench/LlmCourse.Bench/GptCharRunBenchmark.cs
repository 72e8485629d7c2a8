using System.Diagnostics;
using System.Globalization;
using LlmCourse.Models;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Bench;

/// <summary>
/// Lesson 03's GPT run, end to end: nanoGPT's CPU shakespeare_char configuration trained with the
/// course's <see cref="Trainer"/>, against the same run in PyTorch (bench/anchors/gpt_char_run.py),
/// wall seconds of training. Both print their validation loss on the whole validation text
/// (nanoGPT's measure), which should agree to a few hundredths. Options: <c>--steps</c> (2000),
/// <c>--seed</c> (1337), <c>--anchor-threads</c> (1). PyTorch runs on one thread by default: at this
/// small batch (12 x 64) its second thread costs more than it gives (59 ms a step on one thread,
/// 158 ms on two, measured on a 2-core VM), and an anchor slowed down that way would flatter us.
/// Needs TinyShakespeare (LLMCOURSE_DATA or the cache).
/// </summary>
public sealed class GptCharRunBenchmark : Benchmark
{
    public override string Name => "gpt-char-run";
    public override string Description => "nanoGPT's CPU shakespeare_char run (lesson 03) vs PyTorch, training seconds";

    public override BenchResult Run(BenchOptions options)
    {
        int steps = options.Int("steps", 2000), seed = options.Int("seed", 1337);
        var corpus = Corpus.Load("tinyshakespeare");
        var tokenizer = CharTokenizer.FromText(corpus.Text);
        var (train, validation) = (tokenizer.Encode(corpus.Train), tokenizer.Encode(corpus.Validation));
        var model = new Gpt(new GptConfig(tokenizer.VocabSize), tokenizer, new Tensors.Generator((ulong)seed));
        var trainer = new Trainer(model, train, validation, new TrainingOptions { Steps = steps, EvalInterval = 0, EvalBatches = 1, Seed = (ulong)seed });

        var clock = Stopwatch.StartNew();
        trainer.Run();
        var ours = clock.Elapsed.TotalSeconds;
        var (nats, count) = SequenceScoring.Windows(model, validation, model.Config.BlockSize);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [ours] validation loss {nats / count:F4} nats/char ({steps} steps, {ours:F1} s)"));

        var anchorThreads = options.Int("anchor-threads", 1);
        Console.WriteLine($"  ours on {options.Threads} threads, PyTorch on {anchorThreads}");
        var anchor = RunAnchor("/usr/bin/python3", "gpt_char_run.py",
            DatasetStore.Default.GetPath("tinyshakespeare"), $"{steps}", $"{anchorThreads}", $"{seed}");
        return new BenchResult(Name, ours, anchor, "s", HigherIsBetter: false);
    }
}
