using System.CommandLine;
using LlmCourse.Cli.Commands;
using Spectre.Console;

namespace LlmCourse.Cli;

/// <summary>
/// <c>llmcourse</c>: run the course's notebooks headless, export them to HTML or slides, write the students' handouts, check
/// the machine, and chat with a fine-tuned model. Each command lives in its own file under Commands/ with its options beside it.
/// </summary>
public static class CourseCli
{
    /// <summary>Exit codes (declared once, in <see cref="ExitCodes"/>): 0 success, 1 a notebook failed, 2 the command line or the files were wrong.</summary>
    public const int Success = ExitCodes.Success, Failure = ExitCodes.Failure, UsageError = ExitCodes.UsageError;

    /// <param name="input">What <c>chat</c> reads the user's lines from (standard input by default; tests pass a script).</param>
    public static RootCommand Build(IAnsiConsole console, TextReader? input = null)
    {
        var root = new RootCommand("llmcourse: run, export and present the LLM Course notebooks; check this machine.");
        root.Subcommands.Add(RunCommand.Create(console));
        root.Subcommands.Add(ExportCommand.Create(console));
        root.Subcommands.Add(SlidesCommand.Create(console));
        root.Subcommands.Add(HandoutCommand.Create(console));
        root.Subcommands.Add(DoctorCommand.Create(console));
        root.Subcommands.Add(ChatCommand.Create(console, input ?? Console.In));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextWriter? output = null, TextWriter? error = null, TextReader? input = null)
    {
        var configuration = new InvocationConfiguration();
        if (output is not null) configuration.Output = output;
        if (error is not null) configuration.Error = error;
        var parsed = Build(console, input).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            console.MarkupLine("Run [bold]llmcourse --help[/] for the commands and their options.");
            return UsageError;
        }
        return await parsed.InvokeAsync(configuration).ConfigureAwait(false);
    }
}
