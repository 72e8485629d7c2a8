using System.Diagnostics;
using System.Globalization;
using LlmCourse.Tensors;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Bench;

/// <summary>
/// Causal attention alone on the GPU, forward and backward: the course's fused kernels under bf16
/// autocast (attention_mma.cu: tensor cores; with <c>--fp32</c> the float32 kernels, attention.cu)
/// against PyTorch's <c>scaled_dot_product_attention</c> on bf16 tensors (FlashAttention-2 on an H200),
/// in the same run (bench/anchors/gpu_attention.py). Shapes: the two GPU step benchmarks' attention,
/// nanoGPT shakespeare-char [64, 6, 256, 64] and GPT-2 [16, 12, 1024, 64] (or <c>--shape B,H,T,D</c>).
/// Prints ms per forward + backward and TFLOP/s counted as FlashAttention does (forward 4 B H T² D / 2
/// causal, backward 2.5 times the forward); the result is the ratio at the last shape (R &gt; 1: we are faster).
/// Ours includes autocast's rounding of q, k, v and the gradient (copies PyTorch does not make: its inputs
/// are bf16 already). Options: <c>--warmup</c> (3), <c>--steps</c> (20), <c>--fp32</c>, <c>--skip-anchor</c>.
/// </summary>
public sealed class GpuAttentionBenchmark : Benchmark
{
    public override string Name => "gpu-attention";
    public override string Description => "GPU causal attention forward + backward, bf16, vs PyTorch's scaled_dot_product_attention";

    public override BenchResult Run(BenchOptions options)
    {
        if (!Device.IsCudaAvailable)
            throw new InvalidOperationException($"{Name} needs a CUDA GPU: {Cuda.Unavailability}");
        var shapes = options.String("shape", "64,6,256,64;16,12,1024,64").Split(';')
            .Select(s => s.Split(',').Select(int.Parse).ToArray()).ToArray();
        var (warmup, steps, fp32) = (options.Int("warmup", 3), options.Int("steps", 20), options.Flag("fp32"));
        Console.WriteLine($"{Name}: {(fp32 ? "float32 kernels" : "bf16 autocast")}; {Cuda.Describe()}");
        double ours = 0, anchor = double.NaN;
        foreach (var shape in shapes)
        {
            var (b, h, t, d) = (shape[0], shape[1], shape[2], shape[3]);
            var flops = 3.5 * 4.0 * b * h * t * t * d / 2;
            ours = MeasureOurs(b, h, t, d, warmup, steps, fp32);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ours: [{b}, {h}, {t}, {d}] {ours:F3} ms forward + backward, {flops / ours / 1e9:F1} TFLOP/s"));
            if (options.Flag("skip-anchor")) continue;
            anchor = RunAnchor(GpuStepBenchmarkBase.Python, "gpu_attention.py", $"{b}", $"{h}", $"{t}", $"{d}", $"{warmup}", $"{steps}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pytorch: [{b}, {h}, {t}, {d}] {anchor:F3} ms forward + backward, {flops / anchor / 1e9:F1} TFLOP/s; ratio {anchor / ours:F3}"));
        }
        return new BenchResult(Name, ours, anchor, "ms", HigherIsBetter: false);
    }

    static double MeasureOurs(int b, int h, int t, int d, int warmup, int steps, bool fp32)
    {
        var gpu = Device.Cuda();
        var random = new Generator(1337);
        var (q, k, v) = (Tensor.Randn([b, h, t, d], random).To(gpu), Tensor.Randn([b, h, t, d], random).To(gpu),
            Tensor.Randn([b, h, t, d], random).To(gpu));
        var gradOutput = Tensor.Randn([b, h, t, d], random).To(gpu);

        void Step()
        {
            using var scope = TensorScope.Begin();
            // Fresh leaves each step, so gradients are written, not accumulated.
            var (ql, kl, vl) = (q.Detach().WithGrad(), k.Detach().WithGrad(), v.Detach().WithGrad());
            Tensor y;
            using (fp32 ? Autocast.Disabled() : Autocast.BFloat16()) y = F.ScaledDotProductAttention(ql, kl, vl, isCausal: true);
            y.Backward(gradOutput);
        }

        for (var i = 0; i < warmup; i++) Step();
        Cuda.Synchronize();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) Step();
        Cuda.Synchronize();
        return clock.Elapsed.TotalMilliseconds / steps;
    }
}
