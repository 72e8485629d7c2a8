using System.Text.RegularExpressions;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;
using LlmCourse.Tests.Cuda;
using LlmCourse.Text;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// A lesson with a GPU branch (its code asks <c>Cuda.IsUsable</c> or <c>Device.IsCudaAvailable</c>) takes it only on a GPU, which CI never
/// has, so without this test the GPU's cells (the configurations at nanoGPT's and GPT-2's sizes, moving the models,
/// autocast, the profiler) would first run in the GPU machine's few minutes. Here each such lesson runs in quick mode
/// through <c>llmcourse run</c> in a child process on the emulated GPU (<see cref="EmulatedGpu"/>) in its host-only
/// mode: every driver and cuBLAS call is checked (a wrong size, a copy outside an allocation, a launch that does not
/// fit), but no kernel runs and every read-back is zero, so the lesson's figures and checks mean nothing; what must
/// hold is that every cell runs without an error and that the lesson did use the GPU. The emulator reports the
/// H200's memory, so GPT-2's shapes at batch 16 fit as they do there.
/// </summary>
[Trait("Category", "CudaEmulation")]
[Collection(NotebookRunsCollection.Name)]
public sealed class GpuLessonTests(ITestOutputHelper output)
{
    /// <summary>
    /// Each lesson with a GPU branch, on an H100/H200 (compute capability 9.0: bf16) and on a GPU older than Ampere
    /// (7.5, a T4's: no bf16, so the lessons take float16 with loss scaling).
    /// </summary>
    public static TheoryData<string, int> GpuLessons()
    {
        var data = new TheoryData<string, int>();
        foreach (var path in Directory.EnumerateFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
            if (HasGpuBranch(path))
                foreach (var computeCapability in new[] { 90, 75 })
                    data.Add(Path.GetFileName(path), computeCapability);
        return data;
    }

    static bool HasGpuBranch(string path) =>
        File.ReadAllText(path) is var text && (text.Contains("Cuda.IsUsable", StringComparison.Ordinal) || text.Contains("Device.IsCudaAvailable", StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(GpuLessons))]
    public void Lesson_TakesItsGpuBranch_OnAnEmulatedGpu_AndEveryCellRuns(string notebook, int computeCapability)
    {
        Assert.True(File.Exists(Repository.ReleaseLibrary),
            $"{Repository.ReleaseLibrary} is missing: the notebooks load the Release build; run `dotnet build -c Release` (or test with -c Release).");
        var emulator = EmulatedGpu.LibraryFolder();
        var cli = Path.Combine(AppContext.BaseDirectory, "LlmCourse.Cli");
        Assert.True(File.Exists(cli), $"{cli} is missing: the test project references LlmCourse.Cli, whose program it runs");

        var work = Directory.CreateTempSubdirectory("gpu-lesson-");
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["LD_LIBRARY_PATH"] = EmulatedGpu.LibraryPath(emulator),
                ["LLMCOURSE_CACHE"] = Path.Combine(work.FullName, "cache"),   // the emulator's "PTX" stays out of the real cache
                ["SIMT_CUDA_HOST_ONLY"] = "1",
                ["SIMT_CUDA_COUNT"] = "1",
                ["SIMT_CUDA_MEMORY_MB"] = "143771",                           // the H200's
                ["SIMT_CUDA_CC"] = computeCapability.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            // As in LessonNotebookTests: where the datasets are, the lesson may not fall back to other data or skip a part.
            if (Environment.GetEnvironmentVariable(DatasetStore.DataVariable) is { Length: > 0 } data && Directory.Exists(data))
                environment[DatasetStore.RequireDataVariable] = "1";
            var outFolder = Path.Combine(work.FullName, "out");
            var (exit, log) = EmulatedGpu.Run(cli, ["run", Path.Combine(Repository.Notebooks, notebook), "--quick", "--out", outFolder],
                TimeSpan.FromMinutes(3), environment);   // quick mode takes about 15 s; a GPU-size cell left on the CPU takes far longer
            output.WriteLine(EmulatedGpu.Tail(log));

            var executedPath = Path.Combine(outFolder, notebook);
            Assert.True(File.Exists(executedPath), $"llmcourse run wrote no executed notebook (exit code {exit}):\n{EmulatedGpu.Tail(log)}");
            var executed = NotebookReader.Load(executedPath);
            var code = executed.Cells.Select((cell, index) => (Cell: cell, Number: index + 1)).Where(c => c.Cell.Kind == CellKind.Code).ToList();
            var errors = code.SelectMany(c => c.Cell.Outputs.Where(o => o.Kind == OutputKind.Error)
                .Select(o => $"cell {c.Number}: {o.ErrorName}: {o.ErrorValue}")).ToList();
            Assert.True(errors.Count == 0, $"{notebook} failed on the emulated GPU of compute capability {computeCapability / 10}.{computeCapability % 10}:\n{string.Join("\n", errors)}\n\n{EmulatedGpu.Tail(log)}");
            var notRun = code.Where(c => c.Cell.ExecutionCount is null).Select(c => c.Number).ToList();
            Assert.True(notRun.Count == 0, $"{notebook}: cells {string.Join(", ", notRun)} did not run on the emulated GPU (exit code {exit}):\n{EmulatedGpu.Tail(log)}");

            // The emulator's count at exit: the lesson launched kernels and multiplied on the GPU, not only on the CPU.
            var counts = Regex.Match(log, @"counts: (\d+) kernel launches, (\d+) GEMM calls");
            Assert.True(counts.Success, $"the emulated GPU printed no counts: was it loaded?\n{EmulatedGpu.Tail(log)}");
            Assert.True(long.Parse(counts.Groups[1].Value) > 0 && long.Parse(counts.Groups[2].Value) > 0,
                $"{notebook} ran with a GPU present but used none: {counts.Value}");
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The lessons with a GPU branch, for the tests on a machine whose GPU the engine cannot use.
    /// </summary>
    public static TheoryData<string> GpuLessonNames()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
            if (HasGpuBranch(path)) data.Add(Path.GetFileName(path));
        return data;
    }

    /// <summary>
    /// A machine with an NVIDIA driver but no CUDA toolkit (the driver's libcuda and NVRTC here, no cuBLAS) has a GPU the
    /// engine cannot use: the lesson must not take its GPU branch and fail at the first matrix product, but say why
    /// and run on the CPU, launching nothing on the GPU.
    /// </summary>
    [Theory]
    [MemberData(nameof(GpuLessonNames))]
    public void Lesson_OnAGpuWithoutCublas_SaysWhyAndRunsOnTheCpu(string notebook)
    {
        Assert.True(File.Exists(Repository.ReleaseLibrary),
            $"{Repository.ReleaseLibrary} is missing: the notebooks load the Release build; run `dotnet build -c Release` (or test with -c Release).");
        var work = Directory.CreateTempSubdirectory("gpu-lesson-no-cublas-");
        try
        {
            var (log, _) = RunWithoutCublas(work.FullName, ["run", Path.Combine(Repository.Notebooks, notebook), "--quick", "--out", Path.Combine(work.FullName, "out")]);
            var executed = NotebookReader.Load(Path.Combine(work.FullName, "out", notebook));
            var code = executed.Cells.Select((cell, index) => (Cell: cell, Number: index + 1)).Where(c => c.Cell.Kind == CellKind.Code).ToList();
            var errors = code.SelectMany(c => c.Cell.Outputs.Where(o => o.Kind == OutputKind.Error).Select(o => $"cell {c.Number}: {o.ErrorName}: {o.ErrorValue}")).ToList();
            Assert.True(errors.Count == 0, $"{notebook} failed on a GPU without cuBLAS:\n{string.Join("\n", errors)}\n\n{EmulatedGpu.Tail(log)}");
            Assert.All(code, c => Assert.NotNull(c.Cell.ExecutionCount));
            var text = string.Concat(code.SelectMany(c => c.Cell.Outputs).Select(o => o.Text ?? ""));
            Assert.Contains("the engine cannot use it", text);
            Assert.Contains("cuBLAS", text);
            var counts = Regex.Match(log, @"counts: (\d+) kernel launches, (\d+) GEMM calls");
            Assert.True(counts.Success, $"the emulated GPU printed no counts: was it loaded?\n{EmulatedGpu.Tail(log)}");
            Assert.Equal("0", counts.Groups[1].Value);
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The doctor says the same: the GPU is there, the engine cannot use it, and what is missing.</summary>
    [Fact]
    public void Doctor_OnAGpuWithoutCublas_SaysTheEngineCannotUseIt()
    {
        var work = Directory.CreateTempSubdirectory("doctor-no-cublas-");
        try
        {
            var (log, exit) = RunWithoutCublas(work.FullName, ["doctor"]);
            var flat = Regex.Replace(log, @"[\s│]+", " ");
            Assert.True(exit == 0, $"doctor exited with {exit}:\n{log}");
            Assert.Contains("not usable: SIMT emulator", flat);
            Assert.Contains("cuBLAS (libcublas) was not found", flat);
            Assert.Contains("GPU: the CUDA driver is here but the engine cannot use it", flat);
            Assert.DoesNotContain("the engine's CUDA backend works here", flat);
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Runs llmcourse with the emulated GPU's driver and NVRTC on the loader's path but no cuBLAS (skipped where this
    /// machine has a cuBLAS of its own, which the engine would find).
    /// </summary>
    static (string Log, int Exit) RunWithoutCublas(string work, string[] arguments)
    {
        Assert.SkipWhen(EmulatedGpu.Run("sh", ["-c", "ldconfig -p | grep -q libcublas"], TimeSpan.FromSeconds(30)).ExitCode == 0,
            "this machine has a cuBLAS in the loader's cache, which the engine would find");
        var emulator = EmulatedGpu.LibraryFolder();
        var partial = Directory.CreateDirectory(Path.Combine(work, "no-cublas")).FullName;
        foreach (var soname in new[] { "libcuda.so.1", "libnvrtc.so.13" })
            File.CreateSymbolicLink(Path.Combine(partial, soname), Path.Combine(emulator, "libsimtcuda.so"));
        var cli = Path.Combine(AppContext.BaseDirectory, "LlmCourse.Cli");
        var environment = new Dictionary<string, string>
        {
            ["LD_LIBRARY_PATH"] = EmulatedGpu.LibraryPath(partial),
            ["LLMCOURSE_CACHE"] = Path.Combine(work, "cache"),
            ["SIMT_CUDA_HOST_ONLY"] = "1",
            ["SIMT_CUDA_COUNT"] = "1",
            ["NO_COLOR"] = "1",
        };
        if (Environment.GetEnvironmentVariable(DatasetStore.DataVariable) is { Length: > 0 } data && Directory.Exists(data))
            environment[DatasetStore.RequireDataVariable] = "1";
        var (exit, log) = EmulatedGpu.Run(cli, arguments, TimeSpan.FromMinutes(3), environment);
        return (log, exit);
    }
}
