using System.Diagnostics;
using System.Globalization;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Bench;

/// <summary>
/// Lesson 05's GPU run, end to end: nanoGPT's shakespeare_char GPU configuration (6 layers, 6 heads, 384 dims,
/// block 256, batch 64, dropout 0.2, AdamW 1e-3 → 1e-4 cosine over the run, warmup 100, beta2 0.99, weight
/// decay 0.1 on matrices, clip 1, 5,000 steps) trained with the course's <see cref="Trainer"/> under bf16
/// autocast on the GPU, against the same run in PyTorch (bench/anchors/gpu_char_run.py: fused AdamW,
/// <c>scaled_dot_product_attention</c>, eager; <c>--compile</c> for <c>torch.compile</c>). Wall seconds of
/// training (evaluation excluded, as both evaluate once at the end); both print the validation loss on the
/// whole validation text in consecutive 256-character windows (nanoGPT reports 1.4697 for its run, measured
/// on random windows). The figures lesson 05 quotes for the GPU come from this benchmark.
/// Options: <c>--steps</c> (5000), <c>--seed</c> (1337), <c>--batch</c> (64), <c>--block</c> (256),
/// <c>--layers</c> (6), <c>--embd</c> (384), <c>--fp32</c> (no autocast), <c>--skip-anchor</c>, <c>--compile</c>.
/// Needs a CUDA GPU and TinyShakespeare (LLMCOURSE_DATA or the cache).
/// </summary>
public sealed class GpuCharRunBenchmark : Benchmark
{
    public override string Name => "gpu-char-run";
    public override string Description => "nanoGPT's GPU shakespeare_char run (lesson 05), bf16, vs PyTorch, training seconds";

    public override BenchResult Run(BenchOptions options)
    {
        if (!Device.IsCudaAvailable)
            throw new InvalidOperationException($"{Name} needs a CUDA GPU: {Cuda.Unavailability}");
        int steps = options.Int("steps", 5000), seed = options.Int("seed", 1337), batch = options.Int("batch", 64);
        var bf16 = !options.Flag("fp32");
        var corpus = Corpus.Load("tinyshakespeare");
        var tokenizer = CharTokenizer.FromText(corpus.Text);
        var (train, validation) = (tokenizer.Encode(corpus.Train), tokenizer.Encode(corpus.Validation));
        var config = new GptConfig(tokenizer.VocabSize, BlockSize: options.Int("block", 256), Layers: options.Int("layers", 6), Heads: 6,
            Embedding: options.Int("embd", 384), Dropout: 0.2f);
        var model = new Gpt(config, tokenizer, new Generator((ulong)seed));
        model.To(Device.Cuda());
        var trainer = new Trainer(model, train, validation, new TrainingOptions
        {
            Steps = steps, BatchSize = batch, LearningRate = 1e-3f, MinLearningRate = 1e-4f, WarmupSteps = Math.Min(100, steps / 2),
            Beta2 = 0.99f, WeightDecay = 0.1f, GradClip = 1f, EvalInterval = 0, EvalBatches = 1, Seed = (ulong)seed,
            Autocast = bf16 ? DType.BFloat16 : null,
        });
        Console.WriteLine($"{Name}: {config.Layers} layers × {config.Embedding}, {config.Heads} heads, block {config.BlockSize}, batch {batch}, " +
                          $"dropout {config.Dropout}, {steps} steps, {(bf16 ? "bf16 autocast" : "fp32")}; {Cuda.Describe()}");

        var clock = Stopwatch.StartNew();
        var history = trainer.Run();
        Cuda.Synchronize();
        var ours = clock.Elapsed.TotalSeconds;
        var (nats, count) = SequenceScoring.Windows(model, validation, config.BlockSize);
        var tokensPerSecond = (double)steps * batch * config.BlockSize / ours;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  [ours] validation loss {nats / count:F4} nats/char, last training loss {history.Losses[^1]:F4} ({steps} steps, {ours:F1} s, " +
            $"{tokensPerSecond:F0} tokens/s); memory {Cuda.MemoryStats()}"));
        if (options.Flag("skip-anchor")) return new BenchResult(Name, ours, double.NaN, "s", HigherIsBetter: false);

        var anchor = RunAnchor(GpuStepBenchmarkBase.Python, "gpu_char_run.py", DatasetStore.Default.GetPath("tinyshakespeare"),
            $"{steps}", $"{seed}", $"{batch}", $"{config.BlockSize}", $"{config.Layers}", $"{config.Embedding}", bf16 ? "bf16" : "fp32",
            options.Flag("compile") ? "compile" : "eager");
        return new BenchResult(Name, ours, anchor, "s", HigherIsBetter: false);
    }
}
