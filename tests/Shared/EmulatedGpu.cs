using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace LlmCourse.Tests.Cuda;

/// <summary>
/// A CUDA GPU emulated on the CPU, for the Category=Cuda tests on machines without one (CI). Cuda/Simt/simt_cuda.cpp
/// is the driver API, NVRTC and cuBLAS as the engine calls them (kernels compiled by g++ with simt.h, the threads of a
/// block as fibers; memory is host memory with guard pages), built here into one library under the sonames the
/// engine loads (libcuda.so.1, libnvrtc.so.13, libcublas.so.13). A test assembly runs its own Category=Cuda tests in a
/// child process whose <c>LD_LIBRARY_PATH</c> finds that library first: the product code is exactly what runs on a
/// GPU, from the C# launchers and the caching allocator to the kernels. Each assembly runs them three times: with threads and
/// blocks in ascending and in descending order, so a read of another thread's write with no barrier between them
/// fails in one of the runs, and as a GPU older than Ampere (compute capability 7.5). What this cannot check: the hardware (its fragment layouts are simt.h's reading of the
/// PTX ISA), NVRTC's code generation, cuBLAS's own algorithms, timing, and the memory model (what one block sees of
/// another's writes while both run). Tests too slow on the emulator carry <c>[Trait("Emulator", "TooSlow")]</c> and run on the GPU
/// only. In tests/Shared, linked into each test project that has Category=Cuda tests.
/// </summary>
public static class EmulatedGpu
{
    /// <summary>The trait a too-slow test carries (value <c>TooSlow</c>).</summary>
    public const string Trait = "Emulator";

    public static string RepoRoot { get; } = FindRepoRoot();

    static string SimtFolder => Path.Combine(RepoRoot, "tests", "LlmCourse.Tensors.Tests", "Cuda", "Simt");

    static readonly Lazy<(string? Folder, string Log)> library = new(BuildLibrary);

    /// <summary>
    /// Runs the Category=Cuda tests of <paramref name="testAssembly"/> on the emulated GPU and fails, naming each test
    /// that failed or skipped, unless every one passed (and at least one ran). Skips only where g++ is missing.
    /// <paramref name="reverseOrder"/> runs the blocks of every launch, and the threads of every block, in descending
    /// order (simt.h's <c>SIMT_ORDER=reverse</c>): a kernel that reads another thread's write with no barrier between
    /// them, or counts on blocks running in order, passes in at most one of the two orders. <paramref name="computeCapability"/>
    /// is the GPU's as the emulator reports it (<c>SIMT_CUDA_CC</c>; 90, an H100/H200's, by default): below 80 the engine
    /// takes its paths for GPUs older than Ampere.
    /// </summary>
    public static void RunCudaTests(System.Reflection.Assembly testAssembly, ITestOutputHelper output, bool reverseOrder = false,
        int computeCapability = 90)
    {
        var folder = LibraryFolder();
        var work = Directory.CreateTempSubdirectory("emulated-gpu-");
        try
        {
            var xml = Path.Combine(work.FullName, "results.xml");
            var dll = testAssembly.Location;
            var apphost = Path.ChangeExtension(dll, null);
            var (program, arguments) = File.Exists(apphost) ? (apphost, new List<string>()) : ("dotnet", new List<string> { dll });
            arguments.AddRange(["-nocolor", "-parallel", "none", "-trait", "Category=Cuda", "-trait-", $"{Trait}=TooSlow", "-xml", xml]);
            var environment = new Dictionary<string, string>
            {
                ["LD_LIBRARY_PATH"] = LibraryPath(folder),
                // The emulator's "PTX" must not mix with a real NVRTC's in the course's kernel cache.
                ["LLMCOURSE_CACHE"] = Path.Combine(work.FullName, "cache"),
                ["SIMT_ORDER"] = reverseOrder ? "reverse" : "forward",
                ["SIMT_CUDA_CC"] = computeCapability.ToString(),
            };
            var (exit, log) = Run(program, [.. arguments], TimeSpan.FromMinutes(20), environment);
            Assert.True(File.Exists(xml), $"the emulated run wrote no results (exit code {exit}):\n{Tail(log)}");

            var tests = XDocument.Load(xml).Descendants("test").Select(t => (
                Name: (string?)t.Attribute("name") ?? "?",
                Result: (string?)t.Attribute("result") ?? "?",
                Seconds: (double?)t.Attribute("time") ?? 0,
                Message: t.Element("failure")?.Element("message")?.Value ?? t.Element("reason")?.Value ?? "")).ToList();
            foreach (var t in tests) output.WriteLine($"{t.Result,-5} {t.Seconds,6:F1} s  {t.Name}");
            Assert.True(tests.Count > 0, $"no Category=Cuda test ran on the emulated GPU (exit code {exit}):\n{Tail(log)}");
            var bad = tests.Where(t => t.Result != "Pass").ToList();
            Assert.True(bad.Count == 0,
                $"{bad.Count} of {tests.Count} Category=Cuda tests did not pass on the emulated GPU of compute capability {computeCapability / 10}.{computeCapability % 10}{(reverseOrder ? " (threads in reverse order)" : "")}:\n" +
                string.Join("\n", bad.Select(t => $"  {t.Result} {t.Name}: {t.Message.Split('\n')[0]}")) + $"\n\n{Tail(log)}");
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The folder of the emulated CUDA libraries, built on first use: a child process whose <c>LD_LIBRARY_PATH</c>
    /// starts with it (<see cref="LibraryPath"/>) finds them under the sonames the engine loads. Skips the calling
    /// test where g++ is missing; fails it, with g++'s output, where the build fails.
    /// </summary>
    public static string LibraryFolder()
    {
        Assert.SkipWhen(FindOnPath("g++") is null, "g++ is not installed (apt-get install g++): the emulated GPU compiles the CUDA kernels with it");
        var (folder, buildLog) = library.Value;
        Assert.True(folder is not null, $"building the emulated CUDA libraries (simt_cuda.cpp) failed:\n{buildLog}");
        return folder!;
    }

    /// <summary><paramref name="folder"/> first, then this process's own <c>LD_LIBRARY_PATH</c>.</summary>
    public static string LibraryPath(string folder) =>
        folder + (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") is { Length: > 0 } p ? ":" + p : "");

    /// <summary>
    /// simt_cuda.cpp built once per version of it (and of simt.h) into a folder of the temp directory, with a link per
    /// soname; built in a folder of its own, then renamed into place, so parallel test processes never see half of it.
    /// </summary>
    static (string? Folder, string Log) BuildLibrary()
    {
        var source = Path.Combine(SimtFolder, "simt_cuda.cpp");
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
            File.ReadAllText(source) + File.ReadAllText(Path.Combine(SimtFolder, "simt.h")) + SimtFolder)))[..16].ToLowerInvariant();
        var folder = Path.Combine(Path.GetTempPath(), $"llmcourse-emulated-gpu-{hash}");
        if (File.Exists(Path.Combine(folder, "libcuda.so.1"))) return (folder, "");
        var staging = Directory.CreateTempSubdirectory("emulated-gpu-build-").FullName;
        var (exit, log) = Run("g++", ["-std=c++20", "-O2", "-shared", "-fPIC", "-Wall", $"-DSIMT_DIR=\"{SimtFolder}\"", source,
            "-o", Path.Combine(staging, "libsimtcuda.so")], TimeSpan.FromMinutes(3));
        if (exit != 0) return (null, log);
        foreach (var soname in new[] { "libcuda.so.1", "libnvrtc.so.13", "libcublas.so.13", "libcublasLt.so.13" })
            File.CreateSymbolicLink(Path.Combine(staging, soname), "libsimtcuda.so");
        try { Directory.Move(staging, folder); }
        catch (IOException) { Directory.Delete(staging, recursive: true); }   // another process got there first
        return (folder, log);
    }

    static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "course.sln"))) return d.FullName;
        throw new InvalidOperationException($"course.sln not found above {AppContext.BaseDirectory}");
    }

    public static string Tail(string log) => log.Length <= 6000 ? log : "...\n" + log[^6000..];

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>Runs a program to its end (or kills it after <paramref name="limit"/>): its exit code and its output.</summary>
    public static (int ExitCode, string Output) Run(string program, string[] arguments, TimeSpan limit, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{stdout.Result}{stderr.Result}\n(killed after {limit.TotalMinutes} minutes)");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
