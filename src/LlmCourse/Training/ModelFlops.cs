using System.Diagnostics;
using LlmCourse.Models;
using LlmCourse.Tensors;

namespace LlmCourse.Training;

/// <summary>
/// The arithmetic a training step does, and what the hardware could do: model FLOPs utilisation (MFU,
/// PaLM, Chowdhery et al. 2022) is FLOPs per token × tokens/s ÷ peak FLOP/s.
/// </summary>
public static class ModelFlops
{
    /// <summary>NVIDIA's H200 (SXM) dense bf16 tensor-core peak: 989 TFLOP/s (its data sheet; 1,979 is with sparsity).</summary>
    public const double H200Bf16Peak = 989e12;

    /// <summary>NVIDIA's A100 dense bf16 peak, 312 TFLOP/s: the figure nanoGPT's MFU divides by.</summary>
    public const double A100Bf16Peak = 312e12;

    /// <summary>
    /// FLOPs per token of a training step of a GPT: 6N for the weight matrices (2N forward, 4N backward)
    /// plus 12·L·C·T for attention's scores and weighted sums (nanoGPT's estimate_mfu, from PaLM's
    /// appendix B), where N counts the parameters without the position table (it is looked up, not multiplied).
    /// </summary>
    public static double GptPerToken(GptConfig config, long parameters) =>
        6.0 * (parameters - (long)config.BlockSize * config.Embedding) + 12.0 * config.Layers * config.Embedding * config.BlockSize;

    public static double GptPerToken(Gpt gpt) => GptPerToken(gpt.Config, gpt.ParameterCount());

    /// <summary>
    /// A measured stand-in for a CPU's peak: the FLOP/s of this engine's SGEMM on a square
    /// <paramref name="size"/>² product (2n³ FLOPs), best of <paramref name="repeats"/>. An MFU against
    /// it says how much of the matrix-multiply speed the whole step keeps.
    /// </summary>
    public static double MeasureMatMulFlops(int size = 512, int repeats = 5)
    {
        var generator = new Generator(0);
        var a = Tensor.Randn([size, size], generator);
        var b = Tensor.Randn([size, size], generator);
        using (TensorScope.Begin()) a.MatMul(b);   // warm up: threads, packing buffers
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            using var scope = TensorScope.Begin();
            var clock = Stopwatch.StartNew();
            a.MatMul(b);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * size * size * size / best;
    }
}
