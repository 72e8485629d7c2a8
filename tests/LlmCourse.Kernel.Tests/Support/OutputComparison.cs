using System.Net;
using System.Text.RegularExpressions;

namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// Compares a cell's outputs in the real kernel (as Jupyter shows them when the cell has finished) with
/// the runner's: the same number of outputs, of the same kinds, with the same MIME types, and the
/// same text for plain values. The only differences allowed are the ones the kernel itself introduces,
/// each named here:
/// <list type="bullet">
/// <item><see cref="BootstrapScript"/>: the kernel's first output in a front end may be its JavaScript
/// bootstrap (a text/html display that is only a script); it is not the notebook's.</item>
/// <item><see cref="LiveChartFrames"/>: a displayed value that the cell updates reaches the kernel's front end
/// as one event per update; the state compared is the last one, as a reader sees it.</item>
/// <item><see cref="KernelHtmlForPlainValues"/>: a .NET value with no course formatter (a number, a
/// list) is sent by the kernel as text/html only (its default MIME type), where the runner writes
/// text/plain; the text inside the kernel's <c>&lt;pre&gt;</c> is compared when there is one.</item>
/// <item><see cref="Timings"/>: wall-clock figures (elapsed, ETA, tokens per second, seconds, MFU, "13.8×
/// faster", "1.6× as long", a chart series named "milliseconds" or "… ms", an <c>OpProfiler.Format()</c>
/// report, whose rows are ordered by time) differ between any two runs; they are masked before text is compared.</item>
/// </list>
/// </summary>
public static partial class OutputComparison
{
    public const string BootstrapScript = "the kernel's JavaScript bootstrap output";
    public const string LiveChartFrames = "live-chart frames (only the final state is compared)";
    public const string KernelHtmlForPlainValues = "the kernel's HTML for a value without a course formatter";
    public const string Timings = "wall-clock timings";

    /// <summary>The differences in one cell, empty when the outputs agree; <paramref name="allowed"/> gets the named ones met.</summary>
    public static List<string> Compare(int cell, List<CellOutput> kernel, List<CellOutput> runner, ISet<string> allowed)
    {
        var problems = new List<string>();
        if (cell == 0 && kernel.Count > 0 && IsBootstrap(kernel[0]))
        {
            kernel = kernel.Skip(1).ToList();
            allowed.Add(BootstrapScript);
        }
        if (kernel.Count != runner.Count)
        {
            problems.Add($"code cell {cell + 1}: {kernel.Count} outputs in the kernel, {runner.Count} in the runner\n" +
                         $"  kernel: {string.Join("\n          ", kernel)}\n  runner: {string.Join("\n          ", runner)}");
            return problems;
        }
        for (var i = 0; i < kernel.Count; i++)
        {
            var (k, r) = (kernel[i], runner[i]);
            var where = $"code cell {cell + 1}, output {i + 1}";
            if (k.Type != r.Type)
            {
                problems.Add($"{where}: a {k.Type} in the kernel, a {r.Type} in the runner ({k} / {r})");
                continue;
            }
            switch (k.Type)
            {
                case OutputType.Stream:
                    if (k.StreamName != r.StreamName) problems.Add($"{where}: {k.StreamName} in the kernel, {r.StreamName} in the runner");
                    else CompareText(where, k.Text ?? "", r.Text ?? "", problems, allowed);
                    break;
                case OutputType.Error:
                    problems.Add($"{where}: an error in both: {k.Text} / {r.Text}");
                    break;
                default:
                    CompareValue(where, k, r, problems, allowed);
                    break;
            }
        }
        return problems;
    }

    static void CompareValue(string where, CellOutput kernel, CellOutput runner, List<string> problems, ISet<string> allowed)
    {
        if (kernel.MimeTypes.SequenceEqual(runner.MimeTypes))
        {
            if (kernel["text/plain"] is { } text) CompareText(where, text, runner["text/plain"]!, problems, allowed);
            return;
        }
        if (kernel.MimeTypes.SequenceEqual(["text/html"]) && runner.MimeTypes.SequenceEqual(["text/plain"]))
        {
            allowed.Add(KernelHtmlForPlainValues);
            if (PlainTextInHtml().Match(kernel["text/html"]!) is { Success: true } match)
                CompareText(where, WebUtility.HtmlDecode(match.Groups[1].Value), runner["text/plain"]!, problems, allowed);
            return;
        }
        problems.Add($"{where}: MIME types [{string.Join(", ", kernel.MimeTypes)}] in the kernel, [{string.Join(", ", runner.MimeTypes)}] in the runner ({kernel} / {runner})");
    }

    static void CompareText(string where, string kernel, string runner, List<string> problems, ISet<string> allowed)
    {
        if (kernel == runner) return;
        var (maskedKernel, maskedRunner) = (MaskTimings(kernel), MaskTimings(runner));
        if (maskedKernel == maskedRunner)
        {
            allowed.Add(Timings);
            return;
        }
        var kernelLines = maskedKernel.Split('\n');
        var runnerLines = maskedRunner.Split('\n');
        var first = Enumerable.Range(0, Math.Min(kernelLines.Length, runnerLines.Length)).FirstOrDefault(i => kernelLines[i] != runnerLines[i], Math.Min(kernelLines.Length, runnerLines.Length));
        problems.Add($"{where}: text differs at line {first + 1}:\n  kernel: {kernelLines.ElementAtOrDefault(first)}\n  runner: {runnerLines.ElementAtOrDefault(first)}");
    }

    // The script dotnet-interactive sends before a notebook's first output in Jupyter, to find its HTTP API
    // (a hidden div "dotnet-interactive-this-cell-…" and a <script>); the in-process kernel sends none.
    static bool IsBootstrap(CellOutput output) =>
        output.Type == OutputType.Display && output.MimeTypes.SequenceEqual(["text/html"]) &&
        output["text/html"]!.Contains("dotnet-interactive-this-cell", StringComparison.Ordinal) &&
        output["text/html"]!.Contains("<script", StringComparison.OrdinalIgnoreCase);

    /// <summary>Wall-clock figures, replaced by # so two runs of the same cell read the same.</summary>
    public static string MaskTimings(string text) =>
        // The padding around a figure depends on its width (aligned tables): a mask takes its spaces too.
        MaskPadding().Replace(TimingPattern().Replace(ProfilerReport().Replace(text, "#"), m => new string('#', 1)), " # ");

    // OpProfiler.Format(): the families × sections table, a blank line, the slowest kernels. Every figure
    // in it is a time, and the rows are sorted by time, so two runs may list them in another order.
    [GeneratedRegex(@"(?m)^family {2,}\S[^\n]*\n(?:[^\n]+\n)+\nslowest kernels[^\n]*(?:\n[^\n]+)*")]
    private static partial Regex ProfilerReport();

    [GeneratedRegex(@" *# *")]
    private static partial Regex MaskPadding();

    [GeneratedRegex(@"\d+(?::\d\d)+(?= elapsed)|(?<=ETA )\d+(?::\d\d)+|[\d.,]+k?(?= ?(?:tok|tokens|chars|characters|steps|it|MB|GB|GFLOP)/s)|[\d.,]+(?= ?(?:s|ms|min|seconds)\b)|(?<=MFU )[\d.,]+ ?%|[\d.,]+(?=× (?:faster|slower|as long))|(?<=: (?:[A-Za-z][\w-]* )?(?:milliseconds|ms): [^\n]*)-?\d[\d.,]*(?:[eE][-+]?\d+,?)?")]
    private static partial Regex TimingPattern();

    [GeneratedRegex(@"^<div class=""dni-plaintext""><pre>(.*?)</pre></div>", RegexOptions.Singleline)]
    private static partial Regex PlainTextInHtml();
}
