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
/// <c>scaled_dot_product_attention</c>, eager; <c>--compile</c> for <c>torch.compile</c>), on TinyShakespeare
/// split 90/10 as nanoGPT splits it.
/// Both sides report the same things: training seconds (evaluations excluded), tokens/s, ms/step and MFU in the
/// <c>ours:</c> / <c>pytorch eager:</c> lines <c>bench/gpu/run.sh table</c> reads; the losses nanoGPT prints, the
/// mean over <c>--eval-batches</c> random batches of train and of validation windows in eval mode (its
/// <c>estimate_loss</c>, eval_iters 200; nanoGPT's run ends at val 1.4697); and the validation loss on the whole
/// validation text in consecutive block-length windows, which does not depend on which windows were drawn.
/// Options: <c>--steps</c> (5000), <c>--eval-every</c> (0: at the start and the end only; nanoGPT evaluates every
/// 250), <c>--eval-batches</c> (200), <c>--seed</c> (1337), <c>--batch</c> (64), <c>--block</c> (256),
/// <c>--layers</c> (6), <c>--embd</c> (384), <c>--fp32</c> (no autocast), <c>--skip-anchor</c>, <c>--compile</c>,
/// <c>--cpu</c> (a smoke check of this code on the CPU, no anchor: use it with tiny sizes).
/// Needs a CUDA GPU (unless <c>--cpu</c>) and TinyShakespeare (LLMCOURSE_DATA or the cache).
/// </summary>
public sealed class GpuCharRunBenchmark : Benchmark
{
    public override string Name => "gpu-char-run";
    public override string Description => "nanoGPT's GPU shakespeare_char run (lesson 05), bf16, vs PyTorch, training seconds";

    public override BenchResult Run(BenchOptions options)
    {
        var onCpu = options.Flag("cpu");
        if (!onCpu && !Device.IsCudaAvailable)
            throw new InvalidOperationException($"{Name} needs a CUDA GPU (or --cpu for a smoke check on the CPU): {Cuda.Unavailability}");
        int steps = options.Int("steps", 5000), seed = options.Int("seed", 1337), batch = options.Int("batch", 64);
        int evalEvery = options.Int("eval-every", 0), evalBatches = options.Int("eval-batches", 200);
        var bf16 = !options.Flag("fp32");
        var corpus = Corpus.Load("tinyshakespeare");
        var tokenizer = CharTokenizer.FromText(corpus.Text);
        var (train, validation) = (tokenizer.Encode(corpus.Train), tokenizer.Encode(corpus.Validation));
        var config = new GptConfig(tokenizer.VocabSize, BlockSize: options.Int("block", 256), Layers: options.Int("layers", 6), Heads: 6,
            Embedding: options.Int("embd", 384), Dropout: 0.2f);
        var model = new Gpt(config, tokenizer, new Generator((ulong)seed));
        if (!onCpu) model.To(Device.Cuda());
        var trainer = new Trainer(model, train, validation, new TrainingOptions
        {
            Steps = steps, BatchSize = batch, LearningRate = 1e-3f, MinLearningRate = 1e-4f, WarmupSteps = Math.Min(100, steps / 2),
            Beta2 = 0.99f, WeightDecay = 0.1f, GradClip = 1f, EvalInterval = 0, EvalBatches = evalBatches, Seed = (ulong)seed,
            Autocast = bf16 ? DType.BFloat16 : null,
        });
        var tokensPerStep = batch * config.BlockSize;
        Console.WriteLine($"{Name}: {config.Layers} layers × {config.Embedding}, {config.Heads} heads, block {config.BlockSize}, batch {batch}, " +
                          $"dropout {config.Dropout}, {steps} steps, {(bf16 ? "bf16 autocast" : "fp32")}, {model.ParameterCount()} parameters; " +
                          (onCpu ? "on the CPU (--cpu: a smoke check, its figures are not lesson 05's)" : Cuda.Describe()));

        var wall = Stopwatch.StartNew();
        var ours = Train(trainer, steps, evalEvery, onCpu);
        var (nats, count) = SequenceScoring.Windows(model, validation, config.BlockSize);
        var estimate = trainer.History.LastEvaluation!;
        GpuStepBenchmarkBase.Report("ours", tokensPerStep * steps / ours, model.ParameterCount(), tokensPerStep);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ours: losses: validation {nats / count:F4} (whole text), estimated validation {estimate.ValidationLoss:F4} " +
                                    $"and train {estimate.TrainLoss:F4} ({evalBatches} batches)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ours: training {ours:F1} s ({ours / 60:F2} min), {wall.Elapsed.TotalSeconds:F1} s wall with evaluation; " +
                                    $"last training batch loss {trainer.History.Steps[^1].Loss:F4}") +
                          (onCpu ? "" : $"; memory {Cuda.MemoryStats()}"));
        if (onCpu || options.Flag("skip-anchor")) return new BenchResult(Name, ours, double.NaN, "s", HigherIsBetter: false);

        var mode = options.Flag("compile") ? "compile" : "eager";
        var anchor = RunAnchor(GpuStepBenchmarkBase.Python, "gpu_char_run.py", DatasetStore.Default.GetPath("tinyshakespeare"),
            $"{steps}", $"{seed}", $"{batch}", $"{config.BlockSize}", $"{config.Layers}", $"{config.Embedding}", bf16 ? "bf16" : "fp32",
            mode, $"{evalEvery}", $"{evalBatches}");
        GpuStepBenchmarkBase.Report($"pytorch {mode}", tokensPerStep * steps / anchor, model.ParameterCount(), tokensPerStep);
        return new BenchResult(Name, ours, anchor, "s", HigherIsBetter: false);
    }

    /// <summary>
    /// Trains to <paramref name="steps"/>, evaluating every <paramref name="evalEvery"/> steps outside the timed part, and
    /// returns the training seconds. The trainer's clock (<see cref="TrainingHistory.Elapsed"/>) stops after each step,
    /// before that step's evaluation, and the evaluations between segments run outside <see cref="Trainer.Run"/>, so
    /// neither is counted; every step reads its loss and gradient norm back, so the GPU has caught up by then.
    /// </summary>
    static double Train(Trainer trainer, int steps, int evalEvery, bool onCpu)
    {
        PrintEvaluation(trainer.Evaluate());   // step 0, before the clock (Run then skips its own)
        var boundaries = evalEvery > 0 ? Enumerable.Range(1, (steps - 1) / evalEvery).Select(i => i * evalEvery) : [];
        foreach (var step in boundaries)
        {
            trainer.Run(step);
            PrintEvaluation(trainer.Evaluate());
        }
        trainer.Run(steps);   // evaluates once more after the last step
        if (!onCpu) Cuda.Synchronize();
        PrintEvaluation(trainer.History.LastEvaluation!);
        return trainer.History.Elapsed.TotalSeconds;

        void PrintEvaluation(EvalRecord e) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ours: step {e.Step}: train loss {e.TrainLoss:F4}, val loss {e.ValidationLoss:F4} ({trainer.History.Elapsed.TotalSeconds:F1} s training)"));
    }
}
