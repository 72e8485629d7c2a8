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
/// H200's memory, so GPT-2's shapes at batch 16 fit as they do there. And on a GPU the engine cannot use (the driver
/// without cuBLAS) each lesson, and the doctor, must say so, and the lesson must run on the CPU.
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
        foreach (var notebook in LessonsWithAGpuBranch())
            foreach (var computeCapability in new[] { 90, 75 })
                data.Add(notebook, computeCapability);
        return data;
    }

    /// <summary>The same lessons, for a machine whose GPU the engine cannot use.</summary>
    public static TheoryData<string> GpuLessonNames() => [.. LessonsWithAGpuBranch()];

    static IEnumerable<string> LessonsWithAGpuBranch() =>
        Directory.EnumerateFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal)
            .Where(path => File.ReadAllText(path) is var text &&
                           (text.Contains("Cuda.IsUsable", StringComparison.Ordinal) || text.Contains("Device.IsCudaAvailable", StringComparison.Ordinal)))
            .Select(Path.GetFileName)!;

    [Theory]
    [MemberData(nameof(GpuLessons))]
    public void Lesson_TakesItsGpuBranch_OnAnEmulatedGpu_AndEveryCellRuns(string notebook, int computeCapability)
    {
        using var work = new WorkFolder("gpu-lesson-");
        var (log, counts) = RunLesson(notebook, work.Path, EmulatedGpu.LibraryFolder(), new()
        {
            ["SIMT_CUDA_MEMORY_MB"] = "143771",   // the H200's
            ["SIMT_CUDA_CC"] = computeCapability.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, $"the emulated GPU of compute capability {computeCapability / 10}.{computeCapability % 10}");
        // The lesson launched kernels and multiplied on the GPU, not only on the CPU.
        Assert.True(counts.Launches > 0 && counts.Gemms > 0, $"{notebook} ran with a GPU present but used none: {counts}\n{EmulatedGpu.Tail(log)}");
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
        using var work = new WorkFolder("gpu-lesson-no-cublas-");
        var (log, counts) = RunLesson(notebook, work.Path, DriverWithoutCublas(work.Path), [], "a GPU without cuBLAS");
        var text = string.Concat(NotebookReader.Load(Path.Combine(work.Path, "out", notebook)).Cells.SelectMany(c => c.Outputs).Select(o => o.Text ?? ""));
        Assert.Contains("the engine cannot use it", text);
        Assert.Contains("cuBLAS", text);
        Assert.True(counts.Launches == 0, $"{notebook} launched kernels on a GPU the engine cannot use: {counts}\n{EmulatedGpu.Tail(log)}");
    }

    /// <summary>The doctor says the same: the GPU is there, the engine cannot use it, and what is missing.</summary>
    [Fact]
    public void Doctor_OnAGpuWithoutCublas_SaysTheEngineCannotUseIt()
    {
        using var work = new WorkFolder("doctor-no-cublas-");
        var (exit, log) = RunCli(["doctor"], work.Path, DriverWithoutCublas(work.Path), []);
        var flat = Regex.Replace(log, @"[\s│]+", " ");
        Assert.True(exit == 0, $"doctor exited with {exit}:\n{log}");
        Assert.Contains("not usable: SIMT emulator", flat);
        Assert.Contains("cuBLAS (libcublas) was not found", flat);
        Assert.Contains("GPU: the CUDA driver is here but the engine cannot use it", flat);
        Assert.DoesNotContain("the engine's CUDA backend works here", flat);
    }

    /// <summary>
    /// Runs a lesson in quick mode through llmcourse run with the emulated libraries of <paramref name="libraries"/>
    /// first on the loader's path, and checks that every code cell ran without an error; returns the log and the
    /// emulator's counts at exit.
    /// </summary>
    (string Log, (long Launches, long Gemms) Counts) RunLesson(string notebook, string work, string libraries,
        Dictionary<string, string> environment, string where)
    {
        Assert.True(File.Exists(Repository.ReleaseLibrary),
            $"{Repository.ReleaseLibrary} is missing: the notebooks load the Release build; run `dotnet build -c Release` (or test with -c Release).");
        var outFolder = System.IO.Path.Combine(work, "out");
        var (exit, log) = RunCli(["run", System.IO.Path.Combine(Repository.Notebooks, notebook), "--quick", "--out", outFolder], work, libraries, environment);
        output.WriteLine(EmulatedGpu.Tail(log));

        var executedPath = System.IO.Path.Combine(outFolder, notebook);
        Assert.True(File.Exists(executedPath), $"llmcourse run wrote no executed notebook (exit code {exit}):\n{EmulatedGpu.Tail(log)}");
        var code = NotebookReader.Load(executedPath).Cells.Select((cell, index) => (Cell: cell, Number: index + 1))
            .Where(c => c.Cell.Kind == CellKind.Code).ToList();
        var errors = code.SelectMany(c => c.Cell.Outputs.Where(o => o.Kind == OutputKind.Error)
            .Select(o => $"cell {c.Number}: {o.ErrorName}: {o.ErrorValue}")).ToList();
        Assert.True(errors.Count == 0, $"{notebook} failed on {where}:\n{string.Join("\n", errors)}\n\n{EmulatedGpu.Tail(log)}");
        var notRun = code.Where(c => c.Cell.ExecutionCount is null).Select(c => c.Number).ToList();
        Assert.True(notRun.Count == 0, $"{notebook}: cells {string.Join(", ", notRun)} did not run on {where} (exit code {exit}):\n{EmulatedGpu.Tail(log)}");

        var counts = Regex.Match(log, @"counts: (\d+) kernel launches, (\d+) GEMM calls");
        Assert.True(counts.Success, $"the emulated GPU printed no counts: was it loaded?\n{EmulatedGpu.Tail(log)}");
        return (log, (long.Parse(counts.Groups[1].Value), long.Parse(counts.Groups[2].Value)));
    }

    /// <summary>
    /// llmcourse (the test project's copy) in a child process on the emulated GPU in host-only mode (every call checked,
    /// no kernel run, read-backs zero), counting its calls, with its own cache (the emulator's "PTX" stays out of the
    /// real one); where the datasets are, a lesson may not fall back to other data or skip a part (as in LessonNotebookTests).
    /// </summary>
    static (int Exit, string Log) RunCli(string[] arguments, string work, string libraries, Dictionary<string, string> environment)
    {
        var cli = System.IO.Path.Combine(AppContext.BaseDirectory, "LlmCourse.Cli");
        Assert.True(File.Exists(cli), $"{cli} is missing: the test project references LlmCourse.Cli, whose program it runs");
        environment["LD_LIBRARY_PATH"] = EmulatedGpu.LibraryPath(libraries);
        environment["LLMCOURSE_CACHE"] = System.IO.Path.Combine(work, "cache");
        environment["SIMT_CUDA_HOST_ONLY"] = "1";
        environment["SIMT_CUDA_COUNT"] = "1";
        environment["NO_COLOR"] = "1";
        if (Environment.GetEnvironmentVariable(DatasetStore.DataVariable) is { Length: > 0 } data && Directory.Exists(data))
            environment[DatasetStore.RequireDataVariable] = "1";
        // Quick mode takes about 15 s; a GPU-size cell left on the CPU takes far longer.
        return EmulatedGpu.Run(cli, arguments, TimeSpan.FromMinutes(3), environment);
    }

    /// <summary>
    /// A folder with only the emulated GPU's driver and NVRTC, no cuBLAS (skips where this machine has a cuBLAS of
    /// its own, which the engine would find).
    /// </summary>
    static string DriverWithoutCublas(string work)
    {
        Assert.SkipWhen(EmulatedGpu.Run("sh", ["-c", "ldconfig -p | grep -q libcublas"], TimeSpan.FromSeconds(30)).ExitCode == 0,
            "this machine has a cuBLAS in the loader's cache, which the engine would find");
        var emulator = EmulatedGpu.LibraryFolder();
        var folder = Directory.CreateDirectory(System.IO.Path.Combine(work, "no-cublas")).FullName;
        foreach (var soname in new[] { "libcuda.so.1", "libnvrtc.so.13" })
            File.CreateSymbolicLink(System.IO.Path.Combine(folder, soname), System.IO.Path.Combine(emulator, "libsimtcuda.so"));
        return folder;
    }

    /// <summary>A temporary folder, deleted with what is in it at the end of the test.</summary>
    sealed class WorkFolder(string prefix) : IDisposable
    {
        readonly DirectoryInfo folder = Directory.CreateTempSubdirectory(prefix);

        public string Path => folder.FullName;

        public void Dispose()
        {
            try { folder.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
