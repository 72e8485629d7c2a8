using System.Text.RegularExpressions;
using LlmCourse.Tensors.Tests.Parity;
using LlmCourse.Tests.Cuda;

namespace LlmCourse.Tensors.Tests.Cuda;

/// <summary>
/// The CUDA kernel files run on the CPU: each harness in Cuda/Simt (a C++ program) includes the emulator
/// (simt.h: the threads of a block as fibers, __syncthreads, warp shuffles, mma.sync by the PTX fragment
/// layout), common.cuh and a kernel file, runs its kernels as the backend launches them and checks them
/// against a reference computed in double. So a kernel's indexing, masking, online softmax and fragment
/// bookkeeping are tested on every machine with g++ (CI installs it), not only on a GPU; what it cannot
/// check is the hardware itself (the fragment layout is the PTX ISA's, written into simt.h), speed, and
/// NVRTC's code generation (the CudaCompile tests compile the same files with NVRTC).
/// </summary>
[Trait("Category", "CudaEmulation")]
public sealed class SimtEmulationTests(ITestOutputHelper output)
{
    static string SimtFolder => Path.Combine(Fixtures.RepoRoot, "tests", "LlmCourse.Tensors.Tests", "Cuda", "Simt");
    static string KernelFolder => Path.Combine(Fixtures.RepoRoot, "src", "LlmCourse.Tensors", "Backends", "Cuda", "Kernels");

    public static TheoryData<string> Harnesses() =>
        [.. Directory.GetFiles(SimtFolder, "*.cpp").Select(f => Path.GetFileNameWithoutExtension(f))
            .Where(n => !n.StartsWith("simt_", StringComparison.Ordinal))   // simt_cuda.cpp is the emulated GPU (EmulatedGpuTests)
            .Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Harnesses))]
    public void KernelsOnTheEmulatorMatchTheirReference(string harness)
    {
        var compiler = EmulatedGpu.FindOnPath("g++");
        Assert.SkipWhen(compiler is null, "g++ is not installed (apt-get install g++): the emulated CUDA kernels are compiled with it");
        var folder = Directory.CreateTempSubdirectory("simt-");
        try
        {
            var kernels = EmulatorSources(folder.FullName);
            var binary = Path.Combine(folder.FullName, harness);
            var (built, buildLog) = EmulatedGpu.Run(compiler!, ["-std=c++20", "-O2", "-Wall", "-Wno-unknown-pragmas", "-Wno-unused-function", "-Wno-sign-compare",
                $"-I{kernels}", Path.Combine(SimtFolder, harness + ".cpp"), "-o", binary], TimeSpan.FromMinutes(3));
            Assert.True(built == 0, $"g++ failed on {harness}.cpp:\n{buildLog}");
            // Twice: threads and blocks in ascending, then in descending order (simt.h's SIMT_ORDER), so a read of
            // another thread's write with no barrier between them fails in one of the two runs.
            foreach (var order in new[] { "forward", "reverse" })
            {
                var (exit, log) = EmulatedGpu.Run(binary, [], TimeSpan.FromMinutes(5), new Dictionary<string, string> { ["SIMT_ORDER"] = order });
                output.WriteLine($"== {harness}, threads in {order} order");
                foreach (var line in log.Split('\n', StringSplitOptions.RemoveEmptyEntries)) output.WriteLine(line);
                var totals = Regex.Match(log, @"^(\d+) passed, (\d+) failed\s*$", RegexOptions.Multiline);
                Assert.True(totals.Success, $"{harness} ({order} order): no totals line (crashed?), exit code {exit}:\n{log}");
                Assert.True(int.Parse(totals.Groups[1].Value) > 0, $"{harness}: no check ran");
                Assert.True(exit == 0 && totals.Groups[2].Value == "0",
                    $"{harness} ({order} order): {totals.Value.Trim()}, exit code {exit}:\n{string.Join('\n', log.Split('\n').Where(l => !l.StartsWith("PASS")))}");
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The kernel files as the emulator compiles them: a block's static shared memory (<c>__shared__ float
    /// s[32]</c>) becomes a function's <c>static</c> (one copy, and blocks run one after another: exactly the
    /// block's), dynamic shared memory (<c>extern __shared__ float smem[]</c>) simt.h's buffer.
    /// </summary>
    static string EmulatorSources(string folder)
    {
        var kernels = Directory.CreateDirectory(Path.Combine(folder, "kernels")).FullName;
        foreach (var file in Directory.GetFiles(KernelFolder))
        {
            var text = File.ReadAllText(file).Replace("extern __shared__", "extern").Replace("__shared__", "static");
            File.WriteAllText(Path.Combine(kernels, Path.GetFileName(file)), text);
        }
        return kernels;
    }
}
