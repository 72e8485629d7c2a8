using System.CommandLine;
using LlmCourse.Setup;
using Spectre.Console;

namespace LlmCourse.Cli.Commands;

/// <summary>
/// <c>llmcourse doctor</c>: what this machine offers the course (the same report lesson 00 shows):
/// .NET, CPU and vector instructions, CUDA libraries, and where each dataset will be read from.
/// Exits with 1 when a dataset copy on disk has the wrong hash, since it would silently be skipped,
/// or when LLMCOURSE_QUICK holds a value it cannot read.
/// </summary>
static class DoctorCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var command = new Command("doctor", "Check this machine: .NET, CPU features, CUDA libraries, datasets.");
        command.SetAction(_ => Run(console));
        return command;
    }

    static int Run(IAnsiConsole console)
    {
        var report = SystemReport.Collect();
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]llmcourse doctor[/]")
            .AddColumn("").AddColumn("").AddColumn("");
        table.ShowHeaders = false;
        string? section = null;
        foreach (var (s, item, value) in report.Rows())
        {
            var colour = value.StartsWith("WRONG", StringComparison.Ordinal) ? "red"
                : value.StartsWith("verified", StringComparison.Ordinal) || value.StartsWith("found", StringComparison.Ordinal)
                  || value.StartsWith("usable", StringComparison.Ordinal) ? "green"
                : value.StartsWith("not found", StringComparison.Ordinal) ? "yellow" : "default";
            table.AddRow(s == section ? "" : $"[bold]{Markup.Escape(s)}[/]", Markup.Escape(item), $"[{colour}]{Markup.Escape(value)}[/]");
            section = s;
        }
        console.Write(table);
        console.MarkupLine(Markup.Escape(report.GpuBackend.StartsWith("usable", StringComparison.Ordinal)
            ? "GPU: the engine's CUDA backend works here; move a model with model.To(Device.Cuda()) and its data with tensor.To(Device.Cuda())."
            : report.CudaDriverFound
                ? $"GPU: the CUDA driver is here but the engine cannot use it: {report.GpuBackend}"
                : "GPU: no CUDA driver found; everything runs on the CPU (as the course is designed to)."));
        return report.Datasets.Any(d => d.State == DatasetState.Mismatch) || report.QuickModeProblem is not null ? ExitCodes.Failure : ExitCodes.Success;
    }
}
