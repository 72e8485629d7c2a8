using System.Globalization;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Optim;
using F = LlmCourse.Tensors.Functional;

namespace LlmCourse.Bench;

/// <summary>
/// The tensor engine's non-GEMM work in a training step, against PyTorch on the same shapes and thread
/// count (bench/anchors/engine_ops.py): element-wise, GELU, layer norm, softmax, cross-entropy and
/// attention forward+backward, an AdamW step. Each case runs inside a <see cref="TensorScope"/> as a
/// training loop would. Prints each case's time and ratio; the result line is the geometric mean of
/// the ratios. Options: <c>--case NAME</c> (one case), <c>--seconds S</c>, <c>--rounds R</c>.
/// </summary>
public sealed class EngineOpsBenchmark : Benchmark
{
    public override string Name => "engine-ops";
    public override string Description => "engine ops (gelu, layer norm, softmax, cross-entropy, attention, AdamW) vs PyTorch, us";

    public override BenchResult Run(BenchOptions options)
    {
        var seconds = double.Parse(options.String("seconds", "1"), CultureInfo.InvariantCulture);
        var rounds = options.Int("rounds", 2);
        var only = options.String("case", "");
        var cases = Cases().Where(c => only.Length == 0 || c.Name == only).ToList();
        if (cases.Count == 0) throw new ArgumentException($"engine-ops: no case named '{only}'");
        double logSum = 0, oursTotal = 0, anchorTotal = 0;
        Console.WriteLine($"{"case",-24} {"ours us",10} {"torch us",10} {"ratio",6}");
        foreach (var (name, setup) in cases)
        {
            var run = setup();
            double ours = double.MaxValue, anchor = double.MaxValue;
            for (var r = 0; r < rounds; r++)
            {
                ours = Math.Min(ours, Time(run, seconds) * 1e6);
                anchor = Math.Min(anchor, RunAnchor(Python, "engine_ops.py", name, $"{options.Threads}", $"{seconds}"));
            }
            Console.WriteLine($"{name,-24} {ours,10:F1} {anchor,10:F1} {anchor / ours,6:F2}");
            logSum += Math.Log(anchor / ours);
            oursTotal += ours;
            anchorTotal += anchor;
        }
        var geomean = Math.Exp(logSum / cases.Count);
        Console.WriteLine($"geometric mean of the ratios: {geomean:F2}");
        // Reported as time: the sum over the cases (the ratio printed is the time ratio of the sums).
        return new BenchResult(Name, oursTotal, anchorTotal, "us, sum over cases", HigherIsBetter: false);
    }

    static double Time(Action run, double seconds)
    {
        for (var i = 0; i < 3; i++) run();
        var best = double.MaxValue;
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            run();
            best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return best;
    }

    static Action Scoped(Action body) => () =>
    {
        using var scope = TensorScope.Begin();
        body();
    };

    static Tensor Input(Generator g, params int[] shape) => Tensor.Randn(shape, g).WithGrad();

    static IEnumerable<(string Name, Func<Action> Setup)> Cases()
    {
        var g = new Generator(0);
        yield return ("add", () =>
        {
            var (a, b) = (Tensor.Randn([4096, 384], g), Tensor.Randn([4096, 384], g));
            return Scoped(() => _ = a + b);
        });
        yield return ("bias_gelu", () =>
        {
            var (x, b) = (Tensor.Randn([4096, 1536], g), Tensor.Randn([1536], g));
            return Scoped(() => _ = (x + b).Gelu());
        });
        yield return ("gelu_fwd_bwd", () =>
        {
            var (x, up) = (Input(g, 4096, 1536), Tensor.Randn([4096, 1536], g));
            return Scoped(() => x.Gelu().Backward(up));
        });
        yield return ("layernorm_fwd_bwd", () =>
        {
            var (x, w, b, up) = (Input(g, 4096, 384), Input(g, 384), Input(g, 384), Tensor.Randn([4096, 384], g));
            return Scoped(() => F.LayerNorm(x, [384], w, b).Backward(up));
        });
        yield return ("softmax_fwd_bwd", () =>
        {
            var (x, up) = (Input(g, 16 * 6 * 256, 256), Tensor.Randn([16 * 6 * 256, 256], g));
            return Scoped(() => x.Softmax(-1).Backward(up));
        });
        yield return ("cross_entropy_fwd_bwd", () =>
        {
            var (x, t) = (Input(g, 4096, 8192), Tensor.RandInt(0, 8192, [4096], g));
            return Scoped(() => F.CrossEntropy(x, t).Backward());
        });
        yield return ("attention_fwd_bwd", () =>
        {
            var (q, k, v, up) = (Input(g, 16, 6, 256, 64), Input(g, 16, 6, 256, 64), Input(g, 16, 6, 256, 64), Tensor.Randn([16, 6, 256, 64], g));
            return Scoped(() => F.ScaledDotProductAttention(q, k, v, isCausal: true).Backward(up));
        });
        yield return ("adamw_step", () =>
        {
            var parameters = Enumerable.Range(0, 10).Select(_ => Input(g, 1_000_000)).ToList();
            foreach (var p in parameters) p.Grad = Tensor.Randn([1_000_000], g);
            var opt = new AdamW(parameters, lr: 1e-3f, weightDecay: 0.1f);
            return opt.Step;
        });
    }

    static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}
