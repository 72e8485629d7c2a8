using System.Text.RegularExpressions;
using LlmCourse.Tensors.Backends.Cuda;
using LlmCourse.Tensors.Backends.Cuda.Native;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// What each kernel will cost a GPU in registers, read with no GPU: NVRTC compiles every kernel file for sm_90 (the
/// H100/H200's real architecture) and runs ptxas, whose report gives each kernel's registers and spills. A kernel
/// that spills registers to local memory in its loop runs at a fraction of its speed, and nothing else would show it
/// before a GPU run; so no kernel may spill, except the few listed here with the most ptxas (NVRTC 11.8, CI's) gave
/// them and why. The launch bounds attention_mma.cu sets (128 registers, 4 blocks of 128 threads an SM) are checked
/// too. The report of every kernel is written to the test's output.
/// </summary>
[Trait("Category", "CudaCompile")]
public sealed partial class KernelResourceTests(ITestOutputHelper output)
{
    /// <summary>Kernels allowed to spill, and how many bytes of spill stores at most.</summary>
    static readonly Dictionary<string, int> AllowedSpillBytes = new()
    {
        // Head size 128 backward: the dk and dv accumulators and the K and V fragments alone take 4 × 64 of the 255
        // registers; ptxas spills 36 (bf16) and 92 (fp16) bytes.
        ["attention_backward_dkdv_mma_bf16_128"] = 128,
        ["attention_backward_dkdv_mma_f16_128"] = 128,
        // Held to 128 registers for 4 blocks an SM: 12 bytes (the fp16 conversions take a few more registers than bf16's).
        ["attention_forward_mma_f16_64"] = 32,
    };

    /// <summary>Kernels with __launch_bounds__(128, 4): at most 65536 / (4 × 128) = 128 registers a thread.</summary>
    static readonly string[] FourBlocksOf128 = ["attention_forward_mma_bf16_64", "attention_forward_mma_f16_64"];

    public static TheoryData<string> Files() => new(CudaKernelCompiler.Files);

    [Theory]
    [MemberData(nameof(Files))]
    public void NoKernelSpillsRegisters(string file)
    {
        Assert.SkipUnless(Nvrtc.IsAvailable, $"NVRTC is not installed: {Nvrtc.LoadError}");
        Assert.SkipUnless(Nvrtc.SupportedArchitectures().Contains(90), $"NVRTC {Nvrtc.Version()} cannot target sm_90");
        var kernels = Report(file);
        Assert.NotEmpty(kernels);
        foreach (var k in kernels)
            output.WriteLine($"{k.Name}: {k.Registers} registers, {k.SpillStores} bytes of spill stores, {k.SpillLoads} of spill loads");

        var over = kernels.Where(k => k.SpillStores > AllowedSpillBytes.GetValueOrDefault(k.Name, 0) ||
                                      k.SpillLoads > 0 && !AllowedSpillBytes.ContainsKey(k.Name))
                          .Select(k => $"{k.Name} spills {k.SpillStores} bytes (allowed {AllowedSpillBytes.GetValueOrDefault(k.Name, 0)})")
                          .ToArray();
        Assert.True(over.Length == 0, $"{file} (NVRTC {Nvrtc.Version()}, sm_90): " + string.Join("; ", over));
        foreach (var name in FourBlocksOf128.Where(n => kernels.Any(k => k.Name == n)))
            Assert.True(kernels.Single(k => k.Name == name).Registers <= 128, $"{name} uses more than 128 registers");
    }

    [Fact]
    public void TheReportIsRead()
    {
        // The parser against ptxas's own words, so a change in NVRTC's log format fails here rather than passing
        // every file with no kernel read.
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'k' for 'sm_90'
            ptxas info    : Function properties for k
            ptxas         .     24 bytes stack frame, 44 bytes spill stores, 24 bytes spill loads
            ptxas info    : Used 255 registers, 568 bytes cmem[0]
            """;
        var k = Assert.Single(Parse(log));
        Assert.Equal(("k", 255, 44, 24), (k.Name, k.Registers, k.SpillStores, k.SpillLoads));
    }

    sealed record Kernel(string Name, int Registers, int SpillStores, int SpillLoads);

    static List<Kernel> Report(string file)
    {
        string[] options = [.. CudaKernelCompiler.Options(90).Select(o => o.Replace("compute_90", "sm_90")), "--ptxas-options=-v"];
        return Parse(Nvrtc.CompileLog(CudaKernelCompiler.Source(file), file, options));
    }

    static List<Kernel> Parse(string log)
    {
        var kernels = new List<Kernel>();
        string? name = null;
        int stores = 0, loads = 0;
        foreach (var line in log.Split('\n'))
        {
            if (Entry().Match(line) is { Success: true } e) (name, stores, loads) = (e.Groups[1].Value, 0, 0);
            else if (Spills().Match(line) is { Success: true } s) (stores, loads) = (int.Parse(s.Groups[1].Value), int.Parse(s.Groups[2].Value));
            else if (Registers().Match(line) is { Success: true } r && name is not null)
            {
                kernels.Add(new Kernel(name, int.Parse(r.Groups[1].Value), stores, loads));
                name = null;
            }
        }
        return kernels;
    }

    [GeneratedRegex(@"Compiling entry function '(\w+)'")]
    private static partial Regex Entry();

    [GeneratedRegex(@"(\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex Spills();

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex Registers();
}
