using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Tests.Cuda;

/// <summary>
/// The course's own GPT and trainer on the GPU (lesson 05's path), against the same model on the CPU: forward,
/// training with and without bf16 autocast, exact resume from a checkpoint, generation with the KV cache, and the
/// attention weights the lessons plot. Every tensor the model makes for itself (positions, the causal mask, the
/// generated tokens) has to be on the model's device. Without a GPU these skip; in CI they run on the emulated GPU
/// (<see cref="EmulatedGpuTests"/>).
/// </summary>
[Trait("Category", "Cuda")]
public sealed class GptOnTheGpuTests : IDisposable
{
    static readonly CharTokenizer Chars = new("abcdefghijklmnopqrstuvwxyz .,");
    static readonly int[] Tokens = Chars.Encode(string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 40)));
    static readonly int[] TrainTokens = Tokens[..1400], ValidationTokens = Tokens[1400..];

    readonly string root = Directory.CreateTempSubdirectory("gpt-gpu-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static void RequireGpu() =>
        Assert.SkipUnless(Device.IsCudaAvailable, $"No CUDA GPU: {Tensors.Cuda.Unavailability} (these tests run on the GPU machine: bench/gpu/run.sh)");

    static Gpt Model(Device device, float dropout = 0f)
    {
        var gpt = new Gpt(new GptConfig(Chars.VocabSize, BlockSize: 16, Layers: 2, Heads: 2, Embedding: 32, Dropout: dropout), Chars, new Generator(5));
        gpt.To(device);
        return gpt;
    }

    static TrainingOptions Options(int steps) => new()
    {
        Steps = steps, BatchSize = 4, WarmupSteps = 2, EvalInterval = 4, EvalBatches = 2, LearningRate = 3e-3f, Seed = 11,
    };

    static void Close(double[] cpu, double[] gpu, double tolerance, string what)
    {
        Assert.Equal(cpu.Length, gpu.Length);
        for (var i = 0; i < cpu.Length; i++)
            Assert.True(Math.Abs(cpu[i] - gpu[i]) <= tolerance * Math.Max(1, Math.Abs(cpu[i])),
                $"{what} [{i}]: cpu {cpu[i]:G7}, gpu {gpu[i]:G7} (tolerance {tolerance:G2} relative)\ncpu {string.Join(", ", cpu.Select(v => v.ToString("F5")))}\ngpu {string.Join(", ", gpu.Select(v => v.ToString("F5")))}");
    }

    [Fact]
    public void TrainingOnTheGpuFollowsTheCpusLossCurve()
    {
        RequireGpu();
        var cpu = new Trainer(Model(Device.Cpu), TrainTokens, ValidationTokens, Options(8)).Run();
        var gpu = new Trainer(Model(Device.Cuda(0)), TrainTokens, ValidationTokens, Options(8)).Run();
        // Same batches, same initial weights; only the order of float sums differs.
        Close(cpu.Losses, gpu.Losses, 1e-4, "training loss");
        Close([.. cpu.Evaluations.Select(e => e.ValidationLoss)], [.. gpu.Evaluations.Select(e => e.ValidationLoss)], 1e-4, "validation loss");
        Assert.True(gpu.Losses[^1] < gpu.Losses[0], $"the GPU run did not learn: {gpu.Losses[0]:F3} → {gpu.Losses[^1]:F3}");
    }

    [Fact]
    public void Bf16AutocastTrainingOnTheGpuFollowsTheCpusAutocast()
    {
        RequireGpu();
        var options = Options(6) with { Autocast = DType.BFloat16 };
        var cpu = new Trainer(Model(Device.Cpu), TrainTokens, ValidationTokens, options).Run();
        var gpu = new Trainer(Model(Device.Cuda(0)), TrainTokens, ValidationTokens, options).Run();
        // Both round the matmul operands to bf16; the sums' order differs, and a bf16 rounding can flip with it.
        Close(cpu.Losses, gpu.Losses, 2e-3, "bf16 training loss");
    }

    /// <summary>
    /// float16 autocast with the trainer's loss scaling, on the GPU and the CPU: a scale of 2^24 overflows the first
    /// steps' gradients on both, so both skip the same steps, halve to the same scale, then train alike.
    /// </summary>
    [Fact]
    public void Fp16AutocastTrainingOnTheGpuSkipsTheSameStepsAsTheCpu()
    {
        RequireGpu();
        var options = Options(8) with { Autocast = DType.Float16, InitialGradScale = 1 << 24 };
        var cpuTrainer = new Trainer(Model(Device.Cpu), TrainTokens, ValidationTokens, options);
        var gpuTrainer = new Trainer(Model(Device.Cuda(0)), TrainTokens, ValidationTokens, options);
        var (cpu, gpu) = (cpuTrainer.Run(), gpuTrainer.Run());
        Assert.Contains(cpu.Steps, s => s.Skipped);
        Assert.Equal(cpu.Steps.Select(s => s.Skipped), gpu.Steps.Select(s => s.Skipped));
        Assert.Equal(cpuTrainer.Scaler!.CurrentScale, gpuTrainer.Scaler!.CurrentScale);
        Close(cpu.Losses, gpu.Losses, 2e-3, "fp16 training loss");
    }

    [Fact]
    public void ResumingOnTheGpuFromACheckpointRepeatsTheUninterruptedRun()
    {
        RequireGpu();
        var path = Path.Combine(root, "gpt.safetensors");
        var options = Options(8) with { CheckpointPath = path, CheckpointInterval = 4 };
        var first = new Trainer(Model(Device.Cuda(0), dropout: 0.1f), TrainTokens, ValidationTokens, options);
        first.Run(untilStep: 4);
        File.Copy(path, path + ".4");
        var uninterrupted = first.Run().Losses;

        var resumed = new Trainer(Model(Device.Cuda(0), dropout: 0.1f), TrainTokens, ValidationTokens, options with { CheckpointPath = null });
        resumed.Resume(path + ".4");
        Assert.Equal(uninterrupted, resumed.Run().Losses);
    }

    /// <summary>
    /// Lesson 05's MFU divides by the GPU's data-sheet figure, found by the name the driver reports: on the
    /// machine the course is verified on (an H200, or an H100 SXM), 989 TFLOP/s. (The emulated GPU has none.)
    /// </summary>
    [Fact]
    public void TheMfuPeakOfTheGpuIsItsDataSheetFigure()
    {
        RequireGpu();
        var name = Tensors.Cuda.Describe(0).Name;
        var peak = ModelFlops.Peak(Device.Cuda(0));
        Assert.Equal(ModelFlops.DataSheetPeak(name), peak);
        if (name is "NVIDIA H200" or "NVIDIA H100 80GB HBM3")
            Assert.Equal(ModelFlops.H200Bf16Peak, peak?.FlopsPerSecond);

        // `llmcourse doctor` says the same, and what a GPU older than Ampere lacks.
        var doctor = LlmCourse.Setup.SystemReport.Collect().GpuBackend;
        Assert.StartsWith($"usable: Device.Cuda(0) is {Tensors.Cuda.Describe(0)}; ", doctor);
        Assert.Contains(peak is null ? "no data-sheet peak known" : $"MFU against {peak}", doctor);
        Assert.Equal(Tensors.Cuda.Describe(0).Major < 8, doctor.Contains("no bf16 tensor cores"));
        Assert.Equal(Tensors.Cuda.Describe(0).Major >= 8, Tensors.Cuda.IsBFloat16Supported(0));
    }

    /// <summary>Lesson 05's "where the time goes": the profiler on the GPU, with gradient accumulation and autocast.</summary>
    [Fact]
    public void ProfilingTrainingStepsOnTheGpuTimesEveryKernelFamily()
    {
        RequireGpu();
        var trainer = new Trainer(Model(Device.Cuda(0)), TrainTokens, ValidationTokens,
            Options(3) with { EvalInterval = 0, GradientAccumulationSteps = 2, Autocast = DType.BFloat16 });
        trainer.Run(untilStep: 1);
        var profile = OpProfiler.Start();
        try { trainer.Run(untilStep: 3); }
        finally { profile.Stop(); }
        var families = profile.Families.Select(f => f.Family).ToHashSet();
        foreach (var family in new[] { "matmul", "attention", "norms", "optimizer" })
            Assert.True(families.Contains(family), $"no {family} kernels in the profile:\n{profile.Format()}");
        Assert.True(profile.KernelTime <= profile.WallTime, $"kernel time {profile.KernelTime} exceeds the wall time {profile.WallTime}");
        Assert.Equal(3, trainer.Step);
    }

    [Fact]
    public void GenerationScoringAndAttentionWeightsOnTheGpuMatchTheCpu()
    {
        RequireGpu();
        var (cpu, gpu) = (Model(Device.Cpu), Model(Device.Cuda(0)));
        int[] prompt = Chars.Encode("the qu");
        // 24 new tokens run past the block of 16: the KV cache, then the sliding window.
        var expected = cpu.GenerateTokens(prompt, 24, Sampling.Greedy);
        Assert.Equal(expected, gpu.GenerateTokens(prompt, 24, Sampling.Greedy, useKvCache: true));
        Assert.Equal(expected, gpu.GenerateTokens(prompt, 24, Sampling.Greedy, useKvCache: false));

        // Scoring the validation text window by window (what lessons report as validation loss).
        var (nc, count) = SequenceScoring.Windows(cpu, ValidationTokens, 16);
        var (ng, _) = SequenceScoring.Windows(gpu, ValidationTokens, 16);
        Assert.True(Math.Abs(nc - ng) <= 1e-5 * Math.Abs(nc), $"validation nats: cpu {nc / count:F6}, gpu {ng / count:F6} per token");

        var tokens = Tensor.FromArray(Chars.Encode("jumps over"), 1, 10);
        var (wc, wg) = (cpu.AttentionWeights(tokens), gpu.AttentionWeights(tokens.To(Device.Cuda(0))));
        for (var layer = 0; layer < wc.Length; layer++)
        {
            Assert.Equal(Device.Cuda(0), wg[layer].Device);
            var (a, b) = (wc[layer].ToArray(), wg[layer].ToArray());
            for (var i = 0; i < a.Length; i++)
                Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f, $"attention weights, layer {layer} [{i}]: cpu {a[i]}, gpu {b[i]}");
        }
    }
}
