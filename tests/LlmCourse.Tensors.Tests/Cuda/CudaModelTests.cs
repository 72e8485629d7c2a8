using LlmCourse.Tests.Cuda;
using LlmCourse.Tensors.Optim;
using LlmCourse.Tensors.Tests.Parity;
using LlmCourse.Tensors.Tests.Regression;
using static LlmCourse.Tensors.Tests.Cuda.Gpu;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// The whole-model regression on the GPU (llm.c's test_gpt2 idea): the GPT of GptRegressionTests (vocab
/// 65, 2 layers, 4 heads, 48 channels, batch 4 x 16) on the GPU against PyTorch's float64 fixture and
/// against the CPU backend: logits, loss, every gradient, a 10-step AdamW curve; then a bf16 autocast
/// run against float32, repeatability, and 1,000 training steps with flat reserved memory.
/// Tolerances: the CPU test's (GptRegressionTests) times 10 for the fixture (another summation order
/// in cuBLAS and the row kernels; CUDA's expf within 2 ulp): logits 1e-3 + 1e-4|x|, loss 1e-4,
/// gradients 1e-4 + 1e-3|g|, loss curve 1e-3 + 1e-4|l|. Without a GPU every test skips, saying why.
/// </summary>
[Trait("Category", "Cuda")]
[Collection(Gpu.Collection)]
public sealed class CudaModelTests(ITestOutputHelper output)
{
    static readonly Tolerance Logits = new(1e-3, 1e-4);
    static readonly Tolerance Loss = new(1e-4, 1e-4);
    static readonly Tolerance Gradients = new(1e-4, 1e-3);
    static readonly Tolerance LossCurve = new(1e-3, 1e-4);

    static (TinyGpt Model, Tensor Idx, Tensor Targets) Load(Device device)
    {
        var config = Fixtures.Get("gpt", "config").ToInt32Array();   // vocab, layers, heads, embd, block, batch
        var parameters = Fixtures.File("gpt").Where(kv => kv.Key.StartsWith("param/", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["param/".Length..], kv => Fixtures.Copy(kv.Value).To(device).Detach().WithGrad());
        return (new TinyGpt(parameters, config[1], config[2]), Fixtures.Copy(Fixtures.Get("gpt", "idx")).To(device),
            Fixtures.Copy(Fixtures.Get("gpt", "targets")).To(device));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LogitsLossAndEveryGradientMatchPyTorchOnTheGpu(bool fusedAttention)
    {
        Require();
        var (model, idx, targets) = Load(Gpu.Device);
        var (logits, loss) = model.Forward(idx, targets, fusedAttention);
        Assert.Equal(Gpu.Device, logits.Device);
        TensorAssert.Close("logits", logits.To(Device.Cpu), Fixtures.Get("gpt", "logits"), Logits, output);
        TensorAssert.Close("loss", [loss.Item()], [Fixtures.Get("gpt", "loss").ToArray()[0]], [1], Loss, output);
        loss.Backward();
        foreach (var (name, p) in model.Parameters)
        {
            Assert.True(p.Grad is not null, $"no gradient reached {name}");
            Assert.Equal(Gpu.Device, p.Grad!.Device);
            TensorAssert.Close($"grad {name}", p.Grad!.To(Device.Cpu), Fixtures.Get("gpt", "grad/" + name), Gradients, output);
        }
    }

    static double[] Train(Device device, int steps, bool autocast = false, bool fusedAttention = true, GradScaler? fp16Scaler = null)
    {
        var (model, idx, targets) = Load(device);
        var h = Fixtures.Get("gpt", "adamw").ToArray();   // lr, beta1, beta2, eps, weight decay
        var decay = model.Parameters.Values.Where(p => p.Rank >= 2).ToList();
        var noDecay = model.Parameters.Values.Where(p => p.Rank < 2).ToList();
        var optimizer = new AdamW(new[] { new ParamGroup(decay, weightDecay: h[4]), new ParamGroup(noDecay, weightDecay: 0f) },
            lr: h[0], beta1: h[1], beta2: h[2], eps: h[3], weightDecay: h[4]);
        var losses = new double[steps];
        for (var step = 0; step < steps; step++)
        {
            using var scope = TensorScope.Begin();
            optimizer.ZeroGrad();
            Tensor loss;
            using (fp16Scaler is not null ? Autocast.Float16() : autocast ? Autocast.BFloat16() : Autocast.Disabled())
                loss = model.Forward(idx, targets, fusedAttention).Loss;
            losses[step] = loss.Item();
            if (fp16Scaler is null)
            {
                loss.Backward();
                optimizer.Step();
                continue;
            }
            fp16Scaler.Scale(loss).Backward();   // fp16 with dynamic loss scaling: overflowing steps are skipped
            fp16Scaler.Step(optimizer);
            fp16Scaler.Update();
        }
        return losses;
    }

    [Fact]
    public void TenAdamWStepsFollowPyTorchsAndTheCpusLossCurve()
    {
        Require();
        var gpu = Train(Gpu.Device, 10, fusedAttention: false);
        var cpu = Train(Device.Cpu, 10, fusedAttention: false);
        var expected = Fixtures.Get("gpt", "losses").ToArray().Select(v => (double)v).ToArray();
        for (var i = 0; i < gpu.Length; i++) output.WriteLine($"step {i}: gpu {gpu[i]:F6} cpu {cpu[i]:F6} PyTorch {expected[i]:F6}");
        TensorAssert.Close("GPU AdamW loss curve vs PyTorch", gpu, expected, [expected.Length], LossCurve, output);
        TensorAssert.Close("GPU AdamW loss curve vs CPU", gpu, cpu, [cpu.Length], LossCurve, output);
    }

    /// <summary>bf16 autocast on the GPU: within 5% of float32 at every step (as on the CPU, AutocastTests), and near the CPU's autocast run.</summary>
    [Fact]
    public void Bf16AutocastRunStaysNearFloat32AndNearTheCpusAutocast()
    {
        Require();
        var fp32 = Train(Gpu.Device, 10);
        var bf16 = Train(Gpu.Device, 10, autocast: true);
        var cpuBf16 = Train(Device.Cpu, 10, autocast: true);
        for (var i = 0; i < fp32.Length; i++)
        {
            output.WriteLine($"step {i}: gpu fp32 {fp32[i]:F5} gpu bf16 {bf16[i]:F5} cpu bf16 {cpuBf16[i]:F5}");
            Assert.True(Math.Abs(bf16[i] - fp32[i]) <= 0.05 * fp32[i], $"step {i}: bf16 {bf16[i]} vs float32 {fp32[i]} (tolerance 5%)");
            Assert.True(Math.Abs(bf16[i] - cpuBf16[i]) <= 0.05 * cpuBf16[i], $"step {i}: GPU bf16 {bf16[i]} vs CPU bf16 {cpuBf16[i]} (tolerance 5%)");
        }
        Assert.True(Math.Abs(bf16[0] - fp32[0]) <= 1e-3 * fp32[0], "first loss within 1e-3 relative");
    }

    /// <summary>
    /// fp16 autocast with a GradScaler on the GPU: the scale starts too large, so the first steps overflow fp16 and
    /// are skipped (the GPU's non-finite check), the scale halves until steps go through; the same happens on the
    /// CPU, step for step, and the losses stay near the CPU's.
    /// </summary>
    [Fact]
    public void Fp16AutocastWithAGradScalerSkipsAndRecoversLikeTheCpu()
    {
        Require();
        const int steps = 16;
        var (gpuScaler, cpuScaler) = (new GradScaler(initialScale: 1 << 24), new GradScaler(initialScale: 1 << 24));
        var gpu = Train(Gpu.Device, steps, fp16Scaler: gpuScaler);
        var cpu = Train(Device.Cpu, steps, fp16Scaler: cpuScaler);
        for (var i = 0; i < steps; i++) output.WriteLine($"step {i}: gpu fp16 {gpu[i]:F5} cpu fp16 {cpu[i]:F5}");
        output.WriteLine($"skipped: gpu {gpuScaler.SkippedSteps}, cpu {cpuScaler.SkippedSteps}; scale: gpu {gpuScaler.CurrentScale}, cpu {cpuScaler.CurrentScale}");
        Assert.InRange(gpuScaler.SkippedSteps, 1, steps - 2);
        Assert.Equal(cpuScaler.SkippedSteps, gpuScaler.SkippedSteps);
        Assert.Equal(cpuScaler.CurrentScale, gpuScaler.CurrentScale);
        for (var i = 0; i < steps; i++)
            Assert.True(Math.Abs(gpu[i] - cpu[i]) <= 0.05 * cpu[i], $"step {i}: GPU fp16 {gpu[i]} vs CPU fp16 {cpu[i]} (tolerance 5%)");
        Assert.True(gpu[^1] < gpu[0], $"the fp16 run did not learn: {gpu[0]:F4} → {gpu[^1]:F4}");
    }

    [Fact]
    public void SameSeedSameGpuSameBits()
    {
        Require();
        Assert.Equal(Train(Gpu.Device, 5), Train(Gpu.Device, 5));
    }

    /// <summary>
    /// 1,000 steps, each in a TensorScope: the caching allocator reuses the same blocks every step, so the
    /// reserved memory after step 10 is the reserved memory after step 1,000, and allocated memory
    /// between steps does not grow (parameters, gradients, optimizer state only).
    /// </summary>
    [Fact]
    [Trait(EmulatedGpu.Trait, "TooSlow")]   // 1,000 steps: minutes on the emulated GPU
    public void ReservedMemoryStaysFlatOverAThousandSteps()
    {
        Require();
        var (model, idx, targets) = Load(Gpu.Device);
        var optimizer = new AdamW(model.Parameters.Values, lr: 1e-3f);
        CudaMemoryStats afterWarmup = default;
        for (var step = 0; step < 1000; step++)
        {
            using (var scope = TensorScope.Begin())
            {
                optimizer.ZeroGrad();
                var loss = model.Forward(idx, targets, fusedAttention: true).Loss;
                loss.Backward();
                optimizer.Step();
            }
            if (step == 9) afterWarmup = Tensors.Cuda.MemoryStats();
        }
        var end = Tensors.Cuda.MemoryStats();
        output.WriteLine($"after 10 steps: {afterWarmup}");
        output.WriteLine($"after 1000 steps: {end}");
        Assert.Equal(afterWarmup.Reserved, end.Reserved);
        Assert.True(end.Allocated <= afterWarmup.Allocated, $"allocated grew from {afterWarmup.Allocated} to {end.Allocated} bytes");
    }

    /// <summary>
    /// A request larger than the whole GPU: an error naming the request and what is allocated, reserved and free,
    /// and nothing lost: the tensors held keep their values and the next allocation works.
    /// </summary>
    [Fact]
    public void OutOfMemoryNamesTheRequestAndWhatIsHeldAndLosesNothing()
    {
        Require();
        var kept = Randn(3, 1000).To(Gpu.Device);
        var before = kept.ToArray();
        var total = Tensors.Cuda.MemoryStats().DeviceTotal;
        const int rows = 1_000_000;
        var columns = checked((int)(total / sizeof(float) / rows + 1000));   // about 1000 × 4 MB more than the GPU has
        var e = Assert.ThrowsAny<Exception>(() => Tensor.Zeros([rows, columns], DType.Float32, Gpu.Device));
        output.WriteLine(e.Message);
        Assert.Contains("out of memory", e.Message);
        Assert.Contains($"tried to allocate {(long)rows * columns * sizeof(float) / (double)(1L << 30):F2} GiB", e.Message);
        Assert.Contains("allocated by tensors", e.Message);
        Assert.Contains("reserved by the caching allocator", e.Message);
        Assert.Contains("free of", e.Message);
        Assert.Equal(before, kept.ToArray());
        Assert.Equal(2000f, (kept * 0f + 2f).Sum().Item());
    }

    [Fact]
    public void ModulesAndOptimizerStateMoveWithTheirParameters()
    {
        Require();
        var layer = new NN.Linear(5, 3);
        layer.To(Gpu.Device);
        Assert.All(layer.Parameters(), p => Assert.Equal(Gpu.Device, p.Device));
        var optimizer = new AdamW(layer.Parameters(), lr: 0.1f);
        var x = Randn(3, 7, 5).To(Gpu.Device);
        layer.Forward(x).Sum().Backward();
        optimizer.Step();
        Assert.All(layer.Parameters(), p => Assert.Equal(Gpu.Device, p.Device));
        var stats = Tensors.Cuda.MemoryStats();
        Assert.True(stats.Allocated > 0 && stats.Reserved >= stats.Allocated && stats.PeakAllocated >= stats.Allocated, stats.ToString());
        // The moments live beside their parameter; the step count on the host (read every step without waiting for the GPU).
        var state = optimizer.StateDict();
        Assert.Equal(Gpu.Device, state["state.0.0.exp_avg"].Device);
        Assert.Equal(Device.Cpu, state["state.0.0.step"].Device);
        // Moving the model after a step takes the optimizer's state along at the next step.
        layer.To(Device.Cpu);
        layer.ZeroGrad();
        layer.Forward(x.To(Device.Cpu)).Sum().Backward();
        optimizer.Step();
        Assert.Equal(Device.Cpu, optimizer.StateDict()["state.0.0.exp_avg"].Device);
        Assert.Equal(2f, optimizer.StateDict()["state.0.0.step"].Item());
    }
}
