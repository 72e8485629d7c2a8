using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Bench;

/// <summary>
/// Tokens per second of a full training step of the course's GPT (<see cref="Gpt"/>, what the
/// students train), against PyTorch on the same model and batch (bench/anchors/gpt_step.py, nanoGPT's
/// model.py and train.py). Our step is the course's own: <see cref="Trainer"/> with nanoGPT's
/// shakespeare_char optimizer settings (AdamW, lr 1e-3, betas 0.9/0.99, weight decay 0.1 on matrices,
/// gradients clipped to norm 1), each step a random batch, forward, backward, clip and AdamW inside a
/// <c>TensorScope</c>. Each side warms up, then times several rounds of steps and keeps its best round;
/// the two sides take turns <c>--repeats</c> times and each keeps its best, so a burst of load from
/// other processes on a shared machine hurts neither more than the other.
/// Options: <c>--warmup</c>, <c>--steps</c> (per round), <c>--rounds</c>, <c>--repeats</c>,
/// <c>--layers</c>, <c>--heads</c>, <c>--embd</c>, <c>--block</c>, <c>--batch</c>, <c>--vocab</c>,
/// <c>--bias</c> (biases in every linear layer and layer norm, GPT-2's choice), <c>--skip-anchor</c> (ours only, e.g. under a profiler),
/// <c>--profile</c> (after the timing, one more round of steps under <see cref="OpProfiler"/>: where our step's time goes,
/// by kernel family and pass).
/// </summary>
public abstract class GptStepBenchmarkBase : Benchmark
{
    protected abstract GptConfig Config { get; }
    protected abstract int BatchSize { get; }
    protected abstract (int Warmup, int Steps, int Rounds) Timing { get; }

    public override BenchResult Run(BenchOptions options)
    {
        var config = Config with
        {
            VocabSize = options.Int("vocab", Config.VocabSize),
            Layers = options.Int("layers", Config.Layers),
            Heads = options.Int("heads", Config.Heads),
            Embedding = options.Int("embd", Config.Embedding),
            BlockSize = options.Int("block", Config.BlockSize),
            Bias = options.Flag("bias"),
        };
        var batch = options.Int("batch", BatchSize);
        var (warmup, steps, rounds) = (options.Int("warmup", Timing.Warmup), options.Int("steps", Timing.Steps), options.Int("rounds", Timing.Rounds));
        var repeats = options.Int("repeats", 2);
        Console.WriteLine($"{Name}: vocab {config.VocabSize}, {config.Layers} layers, {config.Heads} heads, {config.Embedding} dims, " +
                          $"block {config.BlockSize}, batch {batch}{(config.Bias ? ", biases" : "")}; {options.Threads} threads; load average {LoadAverage()}");

        double ours = 0, anchor = 0;
        for (var r = 0; r < repeats; r++)
        {
            ours = Math.Max(ours, MeasureOurs(config, batch, warmup, steps, rounds, profile: options.Flag("profile") && r == repeats - 1));
            if (options.Flag("skip-anchor")) continue;
            anchor = Math.Max(anchor, RunAnchor(Python, "gpt_step.py",
                $"{config.VocabSize}", $"{config.Layers}", $"{config.Heads}", $"{config.Embedding}", $"{config.BlockSize}",
                $"{batch}", config.Bias ? "1" : "0", $"{options.Threads}", $"{warmup}", $"{steps}", $"{rounds}"));
        }
        Console.WriteLine($"load average {LoadAverage()}");
        return new BenchResult(Name, ours, options.Flag("skip-anchor") ? double.NaN : anchor, "tokens/s");
    }

    static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Best tokens per second over <paramref name="rounds"/> rounds of <paramref name="steps"/> trainer steps.</summary>
    static double MeasureOurs(GptConfig config, int batch, int warmup, int steps, int rounds, bool profile)
    {
        // Random tokens: the speed does not depend on the text, and no dataset is needed.
        var random = new Random(1337);
        var tokens = Enumerable.Range(0, 100_000).Select(_ => random.Next(config.VocabSize)).ToArray();
        var tokenizer = new CharTokenizer(Enumerable.Range(0, config.VocabSize).Select(i => (char)(0x100 + i)));
        var model = new Gpt(config, tokenizer);
        var trainer = new Trainer(model, tokens, tokens[..(config.BlockSize * 2)], new TrainingOptions
        {
            Steps = int.MaxValue,   // the schedule's length; we take the steps a few at a time below
            BatchSize = batch,
            EvalInterval = 0,
            EvalBatches = 1,        // the one evaluation at step 0 falls in the warm-up
        });
        trainer.Run(warmup);
        var best = 0.0;
        for (var r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            trainer.Run(trainer.Step + steps);
            best = Math.Max(best, (double)batch * config.BlockSize * steps / clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"ours: {model.ParameterCount()} parameters: best of {rounds} rounds of {steps} steps " +
                          $"{best:F0} tokens/s ({batch * config.BlockSize / best * 1e3:F1} ms per step)");
        if (profile)
        {
            using var profiler = OpProfiler.Start();
            trainer.Run(trainer.Step + steps);
            profiler.Stop();
            Console.WriteLine($"ours, profiled: {steps} steps, {profiler.WallTime.TotalMilliseconds / steps:F1} ms per step " +
                              "(times are totals over the steps; a profiled step is a little slower)");
            Console.Write(profiler.Format(top: 16));
        }
        return best;
    }

    static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}

/// <summary>nanoGPT's shakespeare_char on a laptop, the course's default GPT: 4 layers, 4 heads, 128 dims, block 64, batch 32.</summary>
public sealed class GptStepBenchmark : GptStepBenchmarkBase
{
    public override string Name => "gpt-step";
    public override string Description => "course GPT training step (4x128, T 64, B 32) vs PyTorch, tokens/s";
    protected override GptConfig Config => new(VocabSize: 65, BlockSize: 64, Layers: 4, Heads: 4, Embedding: 128);
    protected override int BatchSize => 32;
    protected override (int Warmup, int Steps, int Rounds) Timing => (5, 10, 5);
}

/// <summary>nanoGPT's shakespeare_char GPU config (6 layers, 6 heads, 384 dims, block 256) at batch 16.</summary>
public sealed class GptStepLargeBenchmark : GptStepBenchmarkBase
{
    public override string Name => "gpt-step-large";
    public override string Description => "course GPT training step (6x384, T 256, B 16) vs PyTorch, tokens/s";
    protected override GptConfig Config => new(VocabSize: 65, BlockSize: 256, Layers: 6, Heads: 6, Embedding: 384);
    protected override int BatchSize => 16;
    protected override (int Warmup, int Steps, int Rounds) Timing => (2, 2, 3);
}
