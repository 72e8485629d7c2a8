using LlmCourse.Data;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Tests.Training;

/// <summary>What pretraining at scale adds to the trainer: gradient accumulation, token shards, MFU and step timings.</summary>
[Collection(nameof(GlobalGenerator))]
public sealed class TrainerScaleTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-scale-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly string Text = TinyPlays.Generate(30_000, seed: 12);
    static readonly CharTokenizer Chars = CharTokenizer.FromText(Text);
    static readonly int[] TrainTokens = Chars.Encode(Text[..27_000]);
    static readonly int[] ValidationTokens = Chars.Encode(Text[27_000..]);

    static Gpt SmallGpt(ulong seed) =>
        new(new GptConfig(Chars.VocabSize, BlockSize: 16, Layers: 1, Heads: 2, Embedding: 16), Chars, new Generator(seed));

    static TrainingOptions Options(int steps) => new()
    {
        Steps = steps, BatchSize = 4, WarmupSteps = 2, EvalInterval = 0, EvalBatches = 1, LearningRate = 3e-3f, GradClip = 0f,
    };

    [Fact]
    public void GradientAccumulation_StepsOnTheGradientOfTheMeanLossOverItsMicroBatches()
    {
        // The trainer with 3 micro-batches per step, against the same step written out by hand:
        // batches 0, 1, 2 of the same stream, the mean of their losses, one backward, one AdamW update.
        var options = Options(1) with { GradientAccumulationSteps = 3 };
        var trained = SmallGpt(7);
        var trainer = new Trainer(trained, TrainTokens, ValidationTokens, options);
        trainer.Run();

        var manual = SmallGpt(7);
        var optimizer = Trainer.CreateOptimizer(manual, options);
        optimizer.LearningRate = new WarmupCosineLr(options.LearningRate, options.MinLearningRate, Math.Min(options.WarmupSteps, options.Steps), options.Steps).At(0);
        var batches = new TokenBatches(TrainTokens, options.BatchSize, 16, BatchOrder.RandomWindows, options.Seed);
        var losses = Enumerable.Range(0, 3).Select(i => { var (x, y) = batches.Batch(i); return manual.Loss(x, y); }).ToArray();
        optimizer.ZeroGrad();
        ((losses[0] + losses[1] + losses[2]) * (1f / 3)).Backward();
        optimizer.Step();

        Assert.Equal(losses.Average(l => (double)l.Item()), trainer.History.Steps[0].Loss, 6);
        var expected = manual.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var actual = trained.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var largest = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(largest < 1e-6, $"largest parameter difference {largest:E2}");
        Assert.Equal(3L * 4 * 16, trainer.TokensPerStep);
    }

    [Fact]
    public void Training_FromAMappedShard_IsTheSameRunAsFromTheArray()
    {
        var trainPath = Path.Combine(root, "train.bin");
        var validationPath = Path.Combine(root, "val.bin");
        TokenShard.Write(trainPath, TrainTokens, Chars.VocabSize);
        TokenShard.Write(validationPath, ValidationTokens, Chars.VocabSize);
        using var train = TokenShard.Open(trainPath);
        using var validation = TokenShard.Open(validationPath);

        var fromArrays = new Trainer(SmallGpt(2), TrainTokens, ValidationTokens, Options(6)).Run();
        var fromShards = new Trainer(SmallGpt(2), train, validation, Options(6)).Run();

        Assert.Equal(fromArrays.Losses, fromShards.Losses);
        Assert.Equal(fromArrays.LastEvaluation!.ValidationLoss, fromShards.LastEvaluation!.ValidationLoss);
    }

    [Fact]
    public void Mfu_IsFlopsPerTokenTimesThroughputOverThePeak_AndStepTimesAddUp()
    {
        var gpt = SmallGpt(3);
        var flops = ModelFlops.GptPerToken(gpt);
        var progress = new List<TrainingProgress>();
        var history = new Trainer(gpt, TrainTokens, ValidationTokens,
            Options(4) with { FlopsPerToken = flops, PeakFlops = 1e9, Progress = progress.Add }).Run();

        Assert.All(history.Steps, s => Assert.Equal(flops * s.TokensPerSecond / 1e9, s.Mfu!.Value, 9));
        Assert.All(progress, p => Assert.Contains("MFU", p.ToString()));
        Assert.All(history.Steps, s =>
        {
            var t = s.Times!;
            Assert.True(t.Forward > 0 && t.Backward > 0 && t.Optimizer > 0 && t.Data >= 0);
            // The phases cannot take longer than the whole step the throughput was measured over.
            Assert.True(t.Total <= 4.0 * 16 / s.TokensPerSecond * 1.0001, $"phases {t.Total:E3} s");
        });
        Assert.Null(new Trainer(SmallGpt(3), TrainTokens, ValidationTokens, Options(1)).Run().Steps[0].Mfu);
    }

    [Fact]
    public void GptFlopsPerToken_IsSixNPlusAttention_ByHand()
    {
        // nanoGPT's 6×384 char model, block 256, vocabulary 65: N = 10,745,088 with positions (no biases);
        // minus the 256 × 384 position table = 10,646,784; 6N = 63,880,704; attention 12·6·384·256 = 7,077,888.
        var config = new GptConfig(65, BlockSize: 256, Layers: 6, Heads: 6, Embedding: 384);
        long parameters = 65L * 384 + 256L * 384 + 6 * (12L * 384 * 384 + 2 * 384) + 384;
        Assert.Equal(10_745_088, parameters);
        Assert.Equal(63_880_704.0 + 7_077_888.0, ModelFlops.GptPerToken(config, parameters));
    }

    [Theory]
    // Names as the CUDA driver reports them (cuDeviceGetName), and NVIDIA's dense 16-bit figures.
    [InlineData("NVIDIA H200", 989, "H200 SXM")]
    [InlineData("NVIDIA H200 NVL", 835, "H200 NVL")]
    [InlineData("NVIDIA H100 80GB HBM3", 989, "H100 SXM")]
    [InlineData("NVIDIA H100 PCIe", 756, "H100 PCIe")]
    [InlineData("NVIDIA H100 NVL", 835, "H100 NVL")]
    [InlineData("NVIDIA GH200 480GB", 989, "GH200")]
    [InlineData("NVIDIA A100-SXM4-80GB", 312, "A100")]
    [InlineData("NVIDIA A100 80GB PCIe", 312, "A100")]
    [InlineData("NVIDIA A10", 125, "A10,")]
    [InlineData("NVIDIA L40S", 362, "L40S")]
    [InlineData("NVIDIA L40", 181, "L40,")]
    [InlineData("NVIDIA L4", 121, "L4,")]
    [InlineData("Tesla V100-SXM2-16GB", 125, "V100 SXM2")]
    [InlineData("Tesla V100-PCIE-32GB", 112, "V100 PCIe")]
    [InlineData("Tesla V100S-PCIE-32GB", 130, "V100S")]
    [InlineData("Tesla T4", 65, "T4")]
    [InlineData("NVIDIA GeForce RTX 4090", 165, "RTX 4090")]
    [InlineData("NVIDIA GeForce RTX 3090", 71, "RTX 3090")]
    public void DataSheetPeak_ReadsTheGpuTheDriverNames(string gpuName, double teraflops, string part)
    {
        var peak = ModelFlops.DataSheetPeak(gpuName);
        Assert.NotNull(peak);
        Assert.Equal(teraflops * 1e12, peak.FlopsPerSecond);
        Assert.Contains(part, peak.Source);
        Assert.StartsWith($"{teraflops:F0} TFLOP/s (NVIDIA's data sheet: ", peak.ToString());
    }

    [Theory]
    // Not in the table: no figure rather than a wrong one (an A10G is not an A10, a laptop 4090 not a desktop one).
    [InlineData("NVIDIA A10G")]
    [InlineData("NVIDIA GeForce RTX 4090 Laptop GPU")]
    [InlineData("NVIDIA GeForce RTX 3090 Ti")]
    [InlineData("NVIDIA B200")]
    [InlineData("SIMT emulator on the CPU (tests/LlmCourse.Tensors.Tests/Cuda/Simt)")]
    public void DataSheetPeak_OfAnUnknownGpu_IsNull(string gpuName) => Assert.Null(ModelFlops.DataSheetPeak(gpuName));

    [Fact]
    public void Peak_OfTheCpu_IsItsMeasuredSgemm()
    {
        var peak = ModelFlops.Peak(Device.Cpu);
        Assert.NotNull(peak);
        Assert.InRange(peak.FlopsPerSecond, 1e8, 1e13);
        Assert.Contains("SGEMM", peak.Source);
        Assert.EndsWith("FLOP/s (this machine's SGEMM on a 512² product, measured)", peak.ToString());
    }

    [Fact]
    public void Bf16Autocast_RoundsTheProducts_ButKeepsFloat32MasterWeights()
    {
        var fp32Model = SmallGpt(5);
        var bf16Model = SmallGpt(5);
        var fp32 = new Trainer(fp32Model, TrainTokens, ValidationTokens, Options(8)).Run();
        var bf16 = new Trainer(bf16Model, TrainTokens, ValidationTokens, Options(8) with { Autocast = DType.BFloat16 }).Run();

        // bf16 keeps 8 significant bits: the losses differ from float32's, but only in the second or third decimal.
        Assert.NotEqual(fp32.Losses, bf16.Losses);
        Assert.All(fp32.Losses.Zip(bf16.Losses), p => Assert.True(Math.Abs(p.First - p.Second) < 0.05, $"{p.First} vs {p.Second}"));
        // The master weights stay float32 and are not all bf16-representable (AdamW's small updates survive).
        Assert.All(bf16Model.Parameters(), p => Assert.Equal(DType.Float32, p.DType));
        var weights = bf16Model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        Assert.Contains(weights, w => (BitConverter.SingleToUInt32Bits(w) & 0xFFFF) != 0);
        Assert.False(Autocast.IsEnabled);   // the trainer's scopes are closed
        Assert.Throws<ArgumentException>(() => new Trainer(SmallGpt(5), TrainTokens, ValidationTokens, Options(1) with { Autocast = DType.Int32 }));
    }

    [Fact]
    public void Fp16Autocast_ScalesTheLoss_AndFollowsFloat32()
    {
        var fp32 = new Trainer(SmallGpt(5), TrainTokens, ValidationTokens, Options(8)).Run();
        var fp16Model = SmallGpt(5);
        var trainer = new Trainer(fp16Model, TrainTokens, ValidationTokens, Options(8) with { Autocast = DType.Float16 });
        var fp16 = trainer.Run();

        // Half keeps 11 significant bits (bf16 8): closer to float32 than bf16, but not equal. 2^16 is small enough
        // that no gradient of this model overflows, so no step is skipped and the scale has not moved.
        Assert.NotEqual(fp32.Losses, fp16.Losses);
        Assert.All(fp32.Losses.Zip(fp16.Losses), p => Assert.True(Math.Abs(p.First - p.Second) < 0.01, $"{p.First} vs {p.Second}"));
        Assert.All(fp16.Steps, s => Assert.False(s.Skipped));
        Assert.Equal(65536f, trainer.Scaler!.CurrentScale);
        Assert.Equal(8, trainer.Scaler.GrowthTracker);
        Assert.All(fp16Model.Parameters(), p => Assert.Equal(DType.Float32, p.DType));
        Assert.False(Autocast.IsEnabled);
        Assert.Null(new Trainer(SmallGpt(5), TrainTokens, ValidationTokens, Options(1) with { Autocast = DType.BFloat16 }).Scaler);
    }

    [Fact]
    public void Fp16Autocast_SkipsTheStepsWhoseGradientsOverflow_AndHalvesTheScale()
    {
        // A scale of 2^24 makes the logits' gradient (about 1/64 a token here) overflow half's 65,504: the first
        // steps are skipped, leaving every weight as it was, and each halves the scale until the gradients fit.
        var model = SmallGpt(5);
        var before = model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var trainer = new Trainer(model, TrainTokens, ValidationTokens, Options(12) with { Autocast = DType.Float16, InitialGradScale = 1 << 24 });
        trainer.Run(untilStep: 1);
        Assert.True(trainer.History.Steps[0].Skipped);
        Assert.Equal(float.PositiveInfinity, trainer.History.Steps[0].GradientNorm);
        Assert.Equal(before, model.Parameters().SelectMany(p => p.ToArray()).ToArray());
        Assert.Equal(1 << 23, trainer.Scaler!.CurrentScale);

        var history = trainer.Run();
        var skipped = history.Steps.TakeWhile(s => s.Skipped).Count();
        Assert.InRange(skipped, 2, 8);
        Assert.All(history.Steps.Skip(skipped), s => Assert.False(s.Skipped));     // once it fits, it keeps fitting
        Assert.Equal(skipped, trainer.Scaler.SkippedSteps);
        Assert.Contains($"({skipped} skipped: float16 gradients overflowed)", history.ToString());
        Assert.Equal((float)(1 << 24) / (1 << skipped), trainer.Scaler.CurrentScale);
        Assert.NotEqual(before, model.Parameters().SelectMany(p => p.ToArray()).ToArray());
        Assert.True(history.Losses[^1] < history.Losses[skipped], $"the loss fell once steps were taken: {string.Join(", ", history.Losses)}");
    }

    [Fact]
    public void Fp16Autocast_ResumesExactly_ScaleIncluded()
    {
        var path = Path.Combine(root, "fp16.safetensors");
        var options = Options(10) with { Autocast = DType.Float16, InitialGradScale = 1 << 24 };
        var whole = new Trainer(SmallGpt(9), TrainTokens, ValidationTokens, options);
        whole.Run();

        var first = new Trainer(SmallGpt(9), TrainTokens, ValidationTokens, options);
        first.Run(untilStep: 2);   // mid-way through the skipped steps: the scale is still coming down
        first.SaveCheckpoint(path);
        var resumed = new Trainer(SmallGpt(9), TrainTokens, ValidationTokens, options);
        resumed.Resume(path);
        Assert.Equal(first.Scaler!.CurrentScale, resumed.Scaler!.CurrentScale);
        resumed.Run();

        Assert.Equal(whole.History.Losses, resumed.History.Losses);
        Assert.Equal(whole.History.Steps.Select(s => s.Skipped), resumed.History.Steps.Select(s => s.Skipped));
        Assert.Equal(whole.Scaler!.CurrentScale, resumed.Scaler.CurrentScale);
        Assert.Equal(whole.Scaler.GrowthTracker, resumed.Scaler.GrowthTracker);
    }

    [Fact]
    public void AccumulationBelowOne_IsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new Trainer(SmallGpt(1), TrainTokens, ValidationTokens, Options(1) with { GradientAccumulationSteps = 0 }));
        Assert.Contains("GradientAccumulationSteps", e.Message);
    }
}
