using System.Globalization;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// Helpers of the Category=Cuda tests: skip (saying why) without a GPU, and run one computation on the
/// CPU (the reference) and on the GPU from the same inputs, comparing outputs and input gradients.
/// </summary>
public static class Gpu
{
    /// <summary>The GPU tests run one class at a time: the memory test must not see another test's allocations.</summary>
    public const string Collection = "Cuda (one GPU, one test at a time)";

    public static Device Device => Device.Cuda(0);

    /// <summary>Skips the calling test where no CUDA GPU is usable, with CUDA's reason.</summary>
    public static void Require() =>
        Assert.SkipUnless(Device.IsCudaAvailable, $"No CUDA GPU: {Tensors.Cuda.Unavailability} (these tests run on the GPU machine: bench/gpu/run.sh)");

    /// <summary>|actual - expected| &lt;= atol + rtol |expected| everywhere; NaN only matches NaN. Reports the worst element.</summary>
    public static void Close(string what, float[] expected, float[] actual, double atol, double rtol, ITestOutputHelper? output = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, worstExcess = double.NegativeInfinity;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                Assert.True(double.IsNaN(e) && double.IsNaN(a), $"{what}: [{i}] expected {e}, got {a}");
                continue;
            }
            if (e == a) continue;
            var diff = Math.Abs(e - a);
            var excess = diff - (atol + rtol * Math.Abs(e));
            if (excess > worstExcess) { worstExcess = excess; worst = diff; at = i; }
        }
        var line = at < 0 ? $"{what}: identical ({expected.Length} values)"
            : string.Create(CultureInfo.InvariantCulture,
                $"{what}: worst |diff| {worst:G3} at [{at}] (cpu {expected[at]:G6}, gpu {actual[at]:G6}); tolerance {atol:G2} + {rtol:G2}|x|");
        output?.WriteLine(line);
        Assert.True(at < 0 || worstExcess <= 0, line);
    }

    /// <summary>
    /// Runs <paramref name="f"/> on CPU copies and on GPU copies of <paramref name="inputs"/>; compares the
    /// outputs, then (when <paramref name="gradients"/>) backpropagates the same random weighting of the
    /// output on both and compares every Float32 input's gradient.
    /// </summary>
    public static void Twin(string what, Func<Tensor[], Tensor> f, double atol, double rtol, ITestOutputHelper output,
        bool gradients = true, params Tensor[] inputs)
    {
        var cpu = inputs.Select(t => Leaf(t.Detach().Clone(), gradients)).ToArray();
        var gpu = inputs.Select(t => Leaf(t.Detach().To(Device), gradients)).ToArray();
        var yc = f(cpu);
        var yg = f(gpu);
        Assert.Equal(Device, yg.Device);
        Assert.Equal(yc.Shape, yg.Shape);
        Close($"{what} forward", yc.ToArray(), yg.ToArray(), atol, rtol, output);
        if (!gradients || !yc.RequiresGrad) return;
        var weights = Tensor.Randn(yc.Shape, new Generator(99));
        (yc * weights).Sum().Backward();
        (yg * weights.To(Device)).Sum().Backward();
        for (var i = 0; i < cpu.Length; i++)
            if (cpu[i].RequiresGrad && cpu[i].Grad is { } gc)
            {
                Assert.True(gpu[i].Grad is not null, $"{what}: no gradient reached GPU input {i}");
                Close($"{what} gradient of input {i}", gc.ToArray(), gpu[i].Grad!.ToArray(), atol * 10, rtol * 10, output);
            }
    }

    static Tensor Leaf(Tensor t, bool gradients) => gradients && t.DType == DType.Float32 ? t.WithGrad() : t;

    public static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(shape, new Generator(seed));
}
