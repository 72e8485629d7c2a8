using LlmCourse.Cli;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;
using LlmCourse.TestSupport;
using Spectre.Console;

namespace LlmCourse.Notebooks.Tests.Cli;

/// <summary>The llmcourse command, run in-process against a console that records what it prints.</summary>
[Collection(NotebookRunsCollection.Name)]
public sealed class CliTests : IDisposable
{
    readonly FixtureFolder folder = new();

    public void Dispose() => folder.Dispose();

    static Task<(int ExitCode, string Output)> Run(params string[] args) => RunWithInput(null, args);

    /// <summary>Runs the command with <paramref name="input"/> as its standard input (what <c>chat</c> reads).</summary>
    internal static async Task<(int ExitCode, string Output)> RunWithInput(TextReader? input, params string[] args)
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = 200;
        var exitCode = await CourseCli.RunAsync(args, console, text, text, input);
        return (exitCode, text.ToString());
    }

    [Fact]
    public async Task Run_WritesExecutedNotebooksAndPages_AndSummarises()
    {
        var source = folder.Copy("success.ipynb");
        folder.Copy("display-update.ipynb");
        File.Delete(Path.Combine(folder.Path, "compile-error.ipynb"));
        var notebooks = Path.Combine(folder.Path, "lessons");
        Directory.CreateDirectory(notebooks);
        File.Move(source, Path.Combine(notebooks, "success.ipynb"));
        File.Move(Path.Combine(folder.Path, "display-update.ipynb"), Path.Combine(notebooks, "display-update.ipynb"));
        var output = Path.Combine(folder.Path, "out");

        var (exitCode, text) = await Run("run", notebooks, "--quick", "--out", output);

        Assert.Equal(0, exitCode);
        foreach (var name in new[] { "success", "display-update" })
        {
            var executed = NotebookReader.Load(Path.Combine(output, name + ".ipynb"));
            Assert.All(executed.CodeCells, c => Assert.NotNull(c.ExecutionCount));
            Assert.Equal("quick", executed.Metadata["llmcourse"]!["mode"]!.GetValue<string>());
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(output, name + ".html")));
        }
        // The sources are untouched: no outputs were written into them.
        Assert.All(NotebookReader.Load(Path.Combine(notebooks, "success.ipynb")).CodeCells, c => Assert.Empty(c.Outputs));
        Assert.Contains("✓ cell 2 (1/7)", text);
        Assert.Contains("Summary", text);
        Assert.Matches(@"success\.ipynb\s*│\s*7/7\s*│\s*[\d.]+ s\s*│\s*✓ ok", text);
        Assert.Matches(@"display-update\.ipynb\s*│\s*3/3", text);
    }

    [Fact]
    public async Task Run_AFailingNotebook_ExitsWithOne_NamesTheCell_AndStillWritesItsCopy()
    {
        var notebook = folder.Copy("runtime-error.ipynb");
        var output = Path.Combine(folder.Path, "out");

        var (exitCode, text) = await Run("run", notebook, "--out", output);

        Assert.Equal(1, exitCode);
        Assert.Contains("✗ failed at cell 2, line 3", text);
        Assert.Contains("cannot divide by zero", text);
        var executed = NotebookReader.Load(Path.Combine(output, "runtime-error.ipynb"));
        Assert.Contains(executed.Cells[1].Outputs, o => o.Kind == OutputKind.Error);
    }

    /// <summary>A lesson whose cells all run but whose check prints ✗ is not "ok": the summary and the exit code say so.</summary>
    [Fact]
    public async Task Run_AFailedCheck_FailsTheRun_AndIsListedWithItsCell()
    {
        var notebook = folder.Copy("failed-check.ipynb");

        var (exitCode, text) = await Run("run", notebook, "--out", Path.Combine(folder.Path, "out"));

        Assert.Equal(1, exitCode);
        Assert.Matches(@"failed-check\.ipynb\s*│\s*3/3\s*│\s*[\d.]+ s\s*│\s*✗ 1 check failed\s*│\s*2 ✓, 1 ✗", text);
        Assert.Contains("cell 3: ✗ the second check: expected 2, got 3", text);
        Assert.DoesNotContain("✓ ok", text);
    }

    [Fact]
    public async Task Fault_Run_ACellThatNeverReturns_StopsAtTheTimeout_NamingCellAndOption()
    {
        var notebook = folder.Copy("never-returns.ipynb");

        var (exitCode, text) = await Run("run", notebook, "--out", Path.Combine(folder.Path, "out"), "--cell-timeout", "1s");

        Assert.Equal(1, exitCode);
        Assert.Contains("✗ failed at cell 3", text);
        Assert.Contains("cell 3 did not finish within 1 s", text);
        Assert.Contains("--cell-timeout", text);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    [InlineData("10d")]
    public async Task Fault_Run_ABadCellTimeout_IsAUsageError(string value)
    {
        var (exitCode, text) = await Run("run", folder.Copy("success.ipynb"), "--out", Path.Combine(folder.Path, "out"), "--cell-timeout", value);

        Assert.Equal(2, exitCode);
        Assert.Contains($"--cell-timeout {value}: expected a duration such as 90s, 20m or 6h", text);
    }

    [Fact]
    public async Task Fault_Run_APythonNotebook_IsRefusedByName()
    {
        var path = Path.Combine(folder.Path, "python.ipynb");
        File.WriteAllText(path, """{"nbformat":4,"nbformat_minor":5,"metadata":{"kernelspec":{"name":"python3","language":"python","display_name":"Python 3"}},"cells":[{"cell_type":"code","source":"print(1)","metadata":{},"outputs":[],"execution_count":null}]}""");

        var (exitCode, text) = await Run("run", path, "--out", Path.Combine(folder.Path, "out"));

        Assert.Equal(1, exitCode);
        Assert.Contains("its kernel is 'Python 3'", text);
        Assert.Contains("✗ unreadable", text);
    }

    [Fact]
    public async Task Fault_Run_AnUnwritableOutFolder_IsNamed()
    {
        using var disk = FaultyDisk.ReadOnly();
        var output = Path.Combine(disk.Path, "out");

        var (exitCode, text) = await Run("run", folder.Copy("success.ipynb"), "--out", output);

        Assert.Equal(1, exitCode);
        Assert.Contains($"--out {output} cannot be created", text);
        Assert.Contains("choose a writable folder", text);
    }

    [Fact]
    public async Task Fault_Run_AFullOutFolder_KeepsThePreviousCopiesWhole_AndSaysSo()
    {
        using var disk = FaultyDisk.Full(kilobytes: 16);
        var previous = Path.Combine(disk.Path, "success.ipynb");
        File.WriteAllText(previous, "{ \"the previous executed copy\": true }");
        File.WriteAllBytes(Path.Combine(disk.Path, "ballast"), new byte[12 * 1024]);   // what is left is too small for the pages

        var (exitCode, text) = await Run("run", folder.Copy("success.ipynb"), "--out", disk.Path);

        Assert.Equal(1, exitCode);
        Assert.Contains("ran, but its executed copy could not be written to", text);
        Assert.Contains("No space left on device", text);
        Assert.Contains("✗ not saved", text);
        Assert.Equal("{ \"the previous executed copy\": true }", File.ReadAllText(previous));
        Assert.DoesNotContain(Directory.GetFiles(disk.Path), f => Path.GetFileName(f).StartsWith('.'));
    }

    [Fact]
    public async Task Run_ContinueOnError_RunsEveryCell()
    {
        var notebook = folder.Copy("runtime-error.ipynb");

        var (exitCode, text) = await Run("run", notebook, "--out", Path.Combine(folder.Path, "out"), "--continue-on-error");

        Assert.Equal(1, exitCode);
        Assert.Matches(@"runtime-error\.ipynb\s*│\s*3/3", text);
    }

    [Fact]
    public async Task Run_RefusesToOverwriteTheSources()
    {
        var notebook = folder.Copy("success.ipynb");
        var before = File.ReadAllText(notebook);

        var (exitCode, text) = await Run("run", notebook, "--out", folder.Path);

        Assert.Equal(2, exitCode);
        Assert.Contains("would overwrite the source notebook", text);
        Assert.Equal(before, File.ReadAllText(notebook));
    }

    [Fact]
    public async Task Run_MissingPathsAndBadArguments_AreUsageErrors()
    {
        var (missing, text) = await Run("run", Path.Combine(folder.Path, "nope.ipynb"));
        Assert.Equal(2, missing);
        Assert.Contains("no such file or folder", text);

        var (bad, badText) = await Run("run", "--frobnicate");
        Assert.Equal(2, bad);
        Assert.Contains("--frobnicate", badText);
    }

    [Fact]
    public async Task Run_AMalformedNotebook_IsReportedWithItsName()
    {
        var path = Path.Combine(folder.Path, "broken.ipynb");
        File.WriteAllText(path, "{\"nbformat\": 4, \"cells\": [{\"source\": 1}]}");

        var (exitCode, text) = await Run("run", path, "--out", Path.Combine(folder.Path, "out"));

        Assert.Equal(1, exitCode);
        Assert.Contains("broken.ipynb: cell 1: has no 'cell_type'", text);
        Assert.Contains("✗ unreadable", text);
    }

    [Fact]
    public async Task Export_And_Slides_WriteSelfContainedPages()
    {
        var notebook = folder.Copy("success.ipynb");
        var output = Path.Combine(folder.Path, "pages");

        var (exported, _) = await Run("export", notebook, "--out", output);
        var (slides, _) = await Run("slides", notebook, "--out", output);

        Assert.Equal(0, exported);
        Assert.Equal(0, slides);
        Assert.Contains("<title>Success</title>", File.ReadAllText(Path.Combine(output, "success.html")));
        Assert.Contains("class=\"slide current\"", File.ReadAllText(Path.Combine(output, "success.slides.html")));
    }

    [Fact]
    public async Task Doctor_ReportsRuntimeCpuCudaAndEveryCatalogDataset()
    {
        var (exitCode, text) = await Run("doctor");

        Assert.Contains(".NET 10", text);
        Assert.Contains("threads", text);
        Assert.Contains(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
        Assert.Contains("CUDA", text);
        Assert.Contains("driver", text);
        // The widest instruction set this machine has, named as the doctor names it.
        var isa = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? "Arm AdvSIMD"
            : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "AVX2" : "SSE4.2";
        Assert.Contains(isa, text);
        foreach (var dataset in LlmCourse.Text.DatasetCatalog.All) Assert.Contains(dataset.Name, text);
        // A missing dataset is not an error (it downloads on first use); only a copy with the wrong hash is.
        Assert.Equal(0, exitCode);
        var data = Environment.GetEnvironmentVariable("LLMCOURSE_DATA");
        if (string.IsNullOrEmpty(data)) Assert.Matches(@"tinyshakespeare\s*│\s*not found; downloaded from", text);
        else Assert.Contains($"verified at {Path.Combine(data, "tinyshakespeare.txt")}", text);
    }
}
