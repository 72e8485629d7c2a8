using System.Diagnostics;
using System.Text.RegularExpressions;
using LlmCourse.Models;
using LlmCourse.Tensors;
using LlmCourse.Tensors.Formatting;

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
    /// The peak an MFU on <paramref name="device"/> divides by: for a GPU, its data-sheet dense tensor-core
    /// figure (<see cref="DataSheetPeak"/>; null for a GPU not in that table, whose MFU is then not shown unless
    /// you set <see cref="TrainingOptions.PeakFlops"/> yourself); for the CPU, this engine's measured SGEMM
    /// (<see cref="MeasureMatMulFlops"/>).
    /// </summary>
    public static HardwarePeak? Peak(Device device) => device.Type == DeviceType.Cuda
        ? DataSheetPeak(Cuda.Describe(device.Index).Name)
        : new HardwarePeak(MeasureMatMulFlops(), "this machine's SGEMM on a 512² product, measured");

    // NVIDIA's data sheets, dense (without 2:4 sparsity) tensor-core FLOP/s at 16 bits with float32 accumulation:
    // bf16, or fp16 on the GPUs that have no bf16 (V100, T4). Matched against the name the driver reports, e.g.
    // "NVIDIA H100 80GB HBM3" (the SXM part), "NVIDIA A100-SXM4-80GB", "Tesla T4"; first match wins.
    static readonly (Regex Name, double Flops, string Part)[] dataSheet =
    [
        (new(@"\bGH200\b"), 989e12, "GH200, dense bf16"),
        (new(@"\bH200\b.*\bNVL\b"), 835e12, "H200 NVL, dense bf16"),
        (new(@"\bH200\b"), 989e12, "H200 SXM, dense bf16"),
        (new(@"\bH100\b.*\bNVL\b"), 835e12, "H100 NVL, dense bf16"),
        (new(@"\bH100\b.*\bPCIe\b", RegexOptions.IgnoreCase), 756e12, "H100 PCIe, dense bf16"),
        (new(@"\bH100\b"), 989e12, "H100 SXM, dense bf16"),
        (new(@"\bA100\b"), 312e12, "A100, dense bf16"),
        (new(@"\bA10\b"), 125e12, "A10, dense bf16"),
        (new(@"\bL40S\b"), 362e12, "L40S, dense bf16"),
        (new(@"\bL40\b"), 181e12, "L40, dense bf16"),
        (new(@"\bL4\b"), 121e12, "L4, dense bf16"),
        (new(@"\bV100S\b"), 130e12, "V100S, fp16 (no bf16)"),
        (new(@"\bV100\b.*\bPCIE\b", RegexOptions.IgnoreCase), 112e12, "V100 PCIe, fp16 (no bf16)"),
        (new(@"\bV100\b"), 125e12, "V100 SXM2, fp16 (no bf16)"),
        (new(@"\bT4\b"), 65e12, "T4, fp16 (no bf16)"),
        (new(@"\bRTX 4090$"), 165e12, "GeForce RTX 4090, dense bf16 with float32 accumulation"),
        (new(@"\bRTX 3090$"), 71e12, "GeForce RTX 3090, dense bf16 with float32 accumulation"),
    ];

    /// <summary>
    /// NVIDIA's data-sheet peak for the GPU the driver calls <paramref name="gpuName"/> (dense 16-bit tensor-core
    /// FLOP/s, float32 accumulation), or null when the course does not know that GPU.
    /// </summary>
    public static HardwarePeak? DataSheetPeak(string gpuName)
    {
        foreach (var (name, flops, part) in dataSheet)
            if (name.IsMatch(gpuName.Trim()))
                return new HardwarePeak(flops, $"NVIDIA's data sheet: {part}");
        return null;
    }

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

/// <summary>A peak FLOP/s an MFU divides by, and where the figure comes from.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public sealed record HardwarePeak(double FlopsPerSecond, string Source)
{
    public override string ToString() => FlopsPerSecond >= 1e12
        ? $"{FlopsPerSecond / 1e12:F0} TFLOP/s ({Source})"
        : $"{FlopsPerSecond / 1e9:F1} GFLOP/s ({Source})";
}
