using System.Diagnostics;

namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// `llmcourse run --quick`, the course's own runner, in a process of its own as a user runs it. A
/// separate process also keeps its Roslyn (5.12) apart from the kernel's (5.0) in this one.
/// </summary>
public static class RunnerCli
{
    public sealed record Result(int ExitCode, string Console, string ExecutedPath, TimeSpan Elapsed);

    public static async Task<Result> RunQuickAsync(string notebook, string outputFolder, CancellationToken cancel,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        foreach (var argument in new[] { Repository.Cli, "run", notebook, "--quick", "--out", outputFolder })
            start.ArgumentList.Add(argument);
        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>()) start.Environment[name] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(10));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var executed = Path.Combine(outputFolder, Path.GetFileName(notebook));
        return new Result(process.ExitCode, await stdout + await stderr, executed, clock.Elapsed);
    }
}
