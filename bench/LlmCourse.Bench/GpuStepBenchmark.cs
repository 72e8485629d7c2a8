using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using LlmCourse.Tokenizers;
using LlmCourse.Training;

namespace LlmCourse.Bench;

/// <summary>
/// Tokens per second of a full GPT training step on the GPU (random batch uploaded, forward and loss
/// under bf16 autocast, backward, gradient clipping to norm 1, fused AdamW, all inside a TensorScope),
/// against PyTorch on the same GPU (bench/anchors/gpu_step.py: the same nanoGPT-shaped model with
/// <c>scaled_dot_product_attention</c> and fused AdamW, eager and <c>torch.compile</c>). The model is the
/// course's <see cref="Gpt"/> (no biases, tied embeddings, exact GELU, dropout 0), built with
/// <see cref="Device.Default"/> set to the GPU so every parameter and batch lives there.
/// Prints tokens/s, ms per step and MFU = 6 N tokens/s / 989 TFLOP/s (N every parameter, H100/H200 dense
/// bf16 peak), then the ratio against eager PyTorch (R &gt; 1: we are faster).
/// Options: <c>--warmup</c> (3), <c>--steps</c> (20), <c>--batch</c>, <c>--block</c>, <c>--fp32</c> (no autocast),
/// <c>--skip-anchor</c>, <c>--skip-compile</c> (eager anchor only), <c>--profile</c> (then 3 more steps under
/// <see cref="OpProfiler"/>, every kernel synchronised: where a step's time goes, by kernel family and pass).
/// </summary>
public abstract class GpuStepBenchmarkBase : Benchmark
{
    /// <summary>H100/H200 SXM dense bf16 tensor-core peak, FLOP/s (the issue's and the anchor's 989 TFLOP/s).</summary>
    public const double PeakFlops = ModelFlops.H200Bf16Peak;

    protected abstract GptConfig Config { get; }
    protected abstract int BatchSize { get; }

    public override BenchResult Run(BenchOptions options)
    {
        if (!Device.IsCudaAvailable)
            throw new InvalidOperationException($"{Name} needs a CUDA GPU: {Cuda.Unavailability}");
        var config = Config with { BlockSize = options.Int("block", Config.BlockSize) };
        var batch = options.Int("batch", BatchSize);
        var (warmup, steps) = (options.Int("warmup", 3), options.Int("steps", 20));
        var bf16 = !options.Flag("fp32");
        Console.WriteLine($"{Name}: vocab {config.VocabSize}, {config.Layers} layers, {config.Heads} heads, {config.Embedding} dims, " +
                          $"block {config.BlockSize}, batch {batch}, {(bf16 ? "bf16 autocast" : "fp32")}; {Cuda.Describe()}");

        var (ours, parameters) = MeasureOurs(config, batch, warmup, steps, bf16, options.Flag("profile"));
        Report("ours", ours, parameters, batch * config.BlockSize);
        if (options.Flag("skip-anchor")) return new BenchResult(Name, ours, double.NaN, "tokens/s");

        var anchorArgs = new[] { $"{config.VocabSize}", $"{config.Layers}", $"{config.Heads}", $"{config.Embedding}", $"{config.BlockSize}",
            $"{batch}", bf16 ? "bf16" : "fp32" };
        var eager = RunAnchor(Python, "gpu_step.py", [.. anchorArgs, "eager", $"{warmup}", $"{steps}"]);
        Report("pytorch eager", eager, parameters, batch * config.BlockSize);
        if (!options.Flag("skip-compile"))
        {
            var compiled = RunAnchor(Python, "gpu_step.py", [.. anchorArgs, "compile", $"{warmup}", $"{steps}"]);
            Report("pytorch compile", compiled, parameters, batch * config.BlockSize);
            Console.WriteLine($"{Name}: ratio vs torch.compile {ours / compiled:F3}");
        }
        return new BenchResult(Name, ours, eager, "tokens/s");
    }

    /// <summary>The Python with a CUDA PyTorch: <c>$LLMCOURSE_PYTHON</c>, else the first <c>python3</c> on the PATH (the GPU machine's).</summary>
    internal static string Python => Environment.GetEnvironmentVariable("LLMCOURSE_PYTHON") is { Length: > 0 } p ? p : "python3";

    internal static void Report(string who, double tokensPerSecond, long parameters, int tokensPerStep) =>
        Console.WriteLine($"{who}: {tokensPerSecond:F0} tokens/s, {tokensPerStep / tokensPerSecond * 1e3:F2} ms/step, " +
                          $"MFU {6.0 * parameters * tokensPerSecond / PeakFlops * 100:F1}% (6 x {parameters} params x tokens/s / 989 TFLOP/s)");

    static (double TokensPerSecond, long Parameters) MeasureOurs(GptConfig config, int batch, int warmup, int steps, bool bf16, bool profile)
    {
        var previous = Device.Default;
        Device.Default = Device.Cuda();
        try
        {
            var tokenizer = new CharTokenizer(Enumerable.Range(0, config.VocabSize).Select(i => (char)(0x100 + i)));
            var model = new Gpt(config, tokenizer, new Generator(1337));
            var parameters = model.Parameters().ToList();
            // nanoGPT's configure_optimizers: decay on matrices and embeddings, none on the rest.
            var optimizer = new AdamW([new ParamGroup(parameters.Where(p => p.Rank >= 2), weightDecay: 0.1f),
                new ParamGroup(parameters.Where(p => p.Rank < 2), weightDecay: 0f)], lr: 6e-4f, beta1: 0.9f, beta2: 0.95f);
            var random = new Random(1337);
            var data = Enumerable.Range(0, 1_000_000).Select(_ => random.Next(config.VocabSize)).ToArray();
            var (x, y) = (new int[batch * config.BlockSize], new int[batch * config.BlockSize]);

            // Returns the step's loss without reading it: like the anchor's loop, the timed steps never wait for the GPU
            // to hand a value back (a read is a host wait that drains the queue; clipping leaves its norm on the GPU too);
            // the last loss is read after the clock stops.
            Tensor Step()
            {
                for (var b = 0; b < batch; b++)
                {
                    var start = random.Next(data.Length - config.BlockSize - 1);
                    Array.Copy(data, start, x, b * config.BlockSize, config.BlockSize);
                    Array.Copy(data, start + 1, y, b * config.BlockSize, config.BlockSize);
                }
                using var scope = TensorScope.Begin();
                var inputs = Tensor.FromArray(x, [batch, config.BlockSize]);
                var targets = Tensor.FromArray(y, [batch, config.BlockSize]);
                Tensor loss;
                using (bf16 ? Autocast.BFloat16() : Autocast.Disabled()) loss = model.Loss(inputs, targets);
                loss.Backward();
                using (OpProfiler.Section(OpProfiler.OptimizerSection))
                {
                    GradClip.ClipGradNormAsTensor(parameters, 1f);   // the norm stays on the GPU, as torch's clip_grad_norm_ leaves it
                    optimizer.Step();
                    optimizer.ZeroGrad();
                }
                return scope.Keep(loss);
            }

            for (var i = 0; i < warmup; i++) Console.WriteLine($"ours: warm-up step {i}: loss {Step().Item():F4}");
            Cuda.Synchronize();
            var clock = Stopwatch.StartNew();
            Tensor? last = null;
            for (var i = 0; i < steps; i++) last = Step();
            Cuda.Synchronize();
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"ours: {steps} steps in {seconds:F3} s, last loss {last?.Item() ?? float.NaN:F4}; memory {Cuda.MemoryStats()}");
            if (profile)
            {
                const int profiled = 3;
                using var profiler = OpProfiler.Start();
                for (var i = 0; i < profiled; i++) Step();
                profiler.Stop();
                Console.WriteLine($"ours, profiled ({profiled} steps, each kernel synchronised, so slower than above: " +
                                  $"{profiler.WallTime.TotalMilliseconds / profiled:F2} ms per step):");
                Console.Write(profiler.Format(top: 16));
            }
            return ((double)batch * config.BlockSize * steps / seconds, model.ParameterCount());
        }
        finally
        {
            Device.Default = previous;
        }
    }
}

/// <summary>nanoGPT's shakespeare-char GPU config: 6 layers, 6 heads, 384 dims, block 256, batch 64, vocab 65.</summary>
public sealed class GpuStepBenchmark : GpuStepBenchmarkBase
{
    public override string Name => "gpu-step";
    public override string Description => "GPU GPT training step, shakespeare-char 6x384 (T 256, B 64), bf16, vs PyTorch";
    protected override GptConfig Config => new(VocabSize: 65, BlockSize: 256, Layers: 6, Heads: 6, Embedding: 384);
    protected override int BatchSize => 64;
}

/// <summary>GPT-2 small: 12 layers, 12 heads, 768 dims, block 1024, batch 16, vocab 50304 (padded to a multiple of 64).</summary>
public sealed class GpuStepGpt2Benchmark : GpuStepBenchmarkBase
{
    public override string Name => "gpu-step-gpt2";
    public override string Description => "GPU GPT training step, GPT-2 124M 12x768 (T 1024, B 16), bf16, vs PyTorch";
    protected override GptConfig Config => new(VocabSize: 50304, BlockSize: 1024, Layers: 12, Heads: 12, Embedding: 768);
    protected override int BatchSize => 16;
}
