using System.Text.RegularExpressions;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;
using LlmCourse.Tests.Cuda;
using LlmCourse.Text;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// A lesson with a GPU branch (its code asks <c>Device.IsCudaAvailable</c>) takes it only on a GPU, which CI never
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
            if (File.ReadAllText(path).Contains("Device.IsCudaAvailable", StringComparison.Ordinal))
                foreach (var computeCapability in new[] { 90, 75 })
                    data.Add(Path.GetFileName(path), computeCapability);
        return data;
    }

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
}
