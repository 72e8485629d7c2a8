using LlmCourse.Cli;
using Spectre.Console;

// The console is made before any notebook runs: the runner later redirects Console.Out to the
// running cell, and progress must keep going to the terminal.
return await CourseCli.RunAsync(args, AnsiConsole.Console);
