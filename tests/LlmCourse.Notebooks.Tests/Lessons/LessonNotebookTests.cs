using System.Diagnostics;
using LlmCourse.Notebooks.Execution;
using LlmCourse.Notebooks.Model;
using LlmCourse.Notebooks.Tests.Support;
using LlmCourse.Text;

namespace LlmCourse.Notebooks.Tests.Lessons;

/// <summary>
/// Every notebook under notebooks/ runs in quick mode, found automatically: a new lesson is tested
/// the moment it is added. A lesson passes when no cell fails and no exercise check prints ✗
/// (the notebooks carry their reference answers, and lessons assert with Check that their curves go
/// down), and exactly as many ✓ lines appear as the notebook declares in its metadata
/// (<c>"llmcourse": { "checks": N }</c>). Where LLMCOURSE_DATA names a folder, the lessons run with
/// LLMCOURSE_REQUIRE_DATA=1, so a fallback to the built-in corpus fails. Each notebook's time is
/// written to the test output.
/// </summary>
[Trait("Category", "Notebooks")]
[Collection(NotebookRunsCollection.Name)]
public sealed class LessonNotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> Lessons()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Lessons))]
    public async Task Lesson_RunsInQuickMode_WithoutErrorsOrFailedChecks(string notebook)
    {
        Assert.True(File.Exists(Repository.ReleaseLibrary),
            $"{Repository.ReleaseLibrary} is missing: the notebooks load the Release build; run `dotnet build -c Release` (or test with -c Release).");
        var path = Path.Combine(Repository.Notebooks, notebook);
        var declared = DeclaredChecks(path);
        var clock = Stopwatch.StartNew();

        // Where the datasets are here (CI, the development machines), a lesson may not fall back to the
        // built-in corpus or skip its GPT-2 part: it would pass its checks on other data, or skip them.
        var data = Environment.GetEnvironmentVariable(DatasetStore.DataVariable);
        var requireData = !string.IsNullOrEmpty(data) && Directory.Exists(data);
        var previous = Environment.GetEnvironmentVariable(DatasetStore.RequireDataVariable);
        if (requireData) Environment.SetEnvironmentVariable(DatasetStore.RequireDataVariable, "1");
        NotebookRun run;
        try
        {
            run = await NotebookRunner.RunAsync(path, new RunOptions { Quick = true }, TestContext.Current.CancellationToken);
        }
        finally
        {
            Environment.SetEnvironmentVariable(DatasetStore.RequireDataVariable, previous);
        }

        output.WriteLine($"{notebook}: quick mode, {run.Cells.Count}/{run.CodeCellCount} code cells in {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var cell in run.Cells.OrderByDescending(c => c.Elapsed).Take(3))
            output.WriteLine($"  slowest: cell {cell.CellIndex + 1} {cell.Elapsed.TotalSeconds:0.00} s");
        Assert.True(run.Succeeded, string.Join(Environment.NewLine, run.Failures));
        Assert.Equal(run.CodeCellCount, run.Cells.Count);

        var checks = CheckLines.Of(run.Executed);
        Assert.True(checks.Failed.Count == 0, $"{notebook}: failed checks:{Environment.NewLine}{string.Join(Environment.NewLine, checks.Failed)}");
        // Every check must run: a section skipped, or a check that no longer prints, is a failure too.
        Assert.True(checks.Passed.Count == declared,
            $"{notebook}: declares {declared} checks (metadata llmcourse.checks) but a quick run printed {checks.Passed.Count} ✓ lines " +
            $"({(requireData ? "with the data present" : "LLMCOURSE_DATA not set: a lesson that needs the datasets may have fallen back")}); " +
            $"the ✓ lines were:{Environment.NewLine}{string.Join(Environment.NewLine, checks.Passed)}");
    }

    /// <summary>
    /// The notebook-level <c>"llmcourse": { "checks": N }</c>: how many ✓ lines a quick run prints.
    /// Required, so that a lesson whose checks silently stop running cannot pass.
    /// </summary>
    internal static int DeclaredChecks(string path)
    {
        var metadata = NotebookReader.Load(path).Metadata;
        if (metadata["llmcourse"]?["checks"] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue(out int checks) && checks >= 0)
            return checks;
        Assert.Fail($"{Path.GetFileName(path)} does not declare how many checks it has. Add to the notebook-level metadata " +
                    "(beside \"kernelspec\") \"llmcourse\": { \"checks\": N }, where N is the number of lines starting with ✓ " +
                    $"that `llmcourse run {Path.GetFileName(path)} --quick` prints (its summary's Checks column).");
        return 0;
    }

    /// <summary>
    /// How many ✓ lines a full run prints: <c>"fullChecks"</c> where full mode checks claims that
    /// quick mode's few steps cannot reach (lesson 06: "fine-tuning raised test accuracy by more than
    /// 30 points"), else <c>"checks"</c>; plus <c>"gpuChecks"</c> when a GPU is present (lesson 05's
    /// nanoGPT figure, checked only on a GPU).
    /// </summary>
    internal static int DeclaredFullChecks(string path)
    {
        var llmcourse = NotebookReader.Load(path).Metadata["llmcourse"];
        var full = Optional(llmcourse, "fullChecks") ?? DeclaredChecks(path);
        return full + (LlmCourse.Tensors.Cuda.IsUsable ? Optional(llmcourse, "gpuChecks") ?? 0 : 0);
    }

    static int? Optional(System.Text.Json.Nodes.JsonNode? llmcourse, string key) =>
        llmcourse?[key] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue(out int count) && count >= 0 ? count : null;

    [Fact]
    public void DeclaredChecks_AreRequired_WithAMessageSayingHowToAddThem()
    {
        using var folder = new FixtureFolder();
        var path = folder.Copy("success.ipynb");

        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => DeclaredChecks(path));

        Assert.Contains("success.ipynb does not declare how many checks it has", e.Message);
        Assert.Contains("\"llmcourse\": { \"checks\": N }", e.Message);
    }
}

/// <summary>
/// The lessons in full mode, with the thresholds their full-mode checks assert (the figures quoted in
/// the lessons come from such a run). Tens of minutes on a laptop, so not part of an ordinary test run
/// or of CI: these skip unless LLMCOURSE_FULL_TESTS=1 (an allowed skip, listed with its reason in
/// .ci/allowed-skips.txt). Run them before writing figures into a lesson:
/// <c>LLMCOURSE_FULL_TESTS=1 dotnet test tests/LlmCourse.Notebooks.Tests -c Release --filter Category=FullMode</c>.
/// </summary>
[Trait("Category", "FullMode")]
[Collection(NotebookRunsCollection.Name)]
public sealed class FullModeLessonTests(ITestOutputHelper output)
{
    public const string Variable = "LLMCOURSE_FULL_TESTS";
    public const string SkipReason = "full-mode lesson runs take tens of minutes; set LLMCOURSE_FULL_TESTS=1 to run them";

    public static TheoryData<string> Lessons() => LessonNotebookTests.Lessons();

    [Theory]
    [MemberData(nameof(Lessons))]
    public async Task Lesson_RunsInFullMode_AndPassesItsFullModeChecks(string notebook)
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable(Variable) == "1", SkipReason);
        var path = Path.Combine(Repository.Notebooks, notebook);
        var declared = LessonNotebookTests.DeclaredFullChecks(path);
        var clock = Stopwatch.StartNew();

        var run = await NotebookRunner.RunAsync(path, new RunOptions { CellTimeout = RunOptions.DefaultCellTimeout(quick: false) },
            TestContext.Current.CancellationToken);

        output.WriteLine($"{notebook}: full mode, {run.Cells.Count}/{run.CodeCellCount} code cells in {clock.Elapsed.TotalMinutes:0.0} min");
        Assert.True(run.Succeeded, string.Join(Environment.NewLine, run.Failures));
        var checks = CheckLines.Of(run.Executed);
        foreach (var line in checks.Passed) output.WriteLine(line.ToString());
        Assert.True(checks.Failed.Count == 0, $"{notebook}: failed full-mode checks:{Environment.NewLine}{string.Join(Environment.NewLine, checks.Failed)}");
        Assert.True(declared == checks.Passed.Count,
            $"{notebook}: declares {declared} checks in full mode (metadata llmcourse.fullChecks, else .checks, plus .gpuChecks on a GPU) " +
            $"but a full run printed {checks.Passed.Count} ✓ lines");
    }
}
