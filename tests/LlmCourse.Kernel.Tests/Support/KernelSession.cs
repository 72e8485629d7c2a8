using System.Diagnostics;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace LlmCourse.Kernel.Tests.Support;

/// <summary>What one submission produced in the real kernel.</summary>
public sealed record KernelCellRun(IReadOnlyList<KernelEvent> Events, TimeSpan Elapsed)
{
    /// <summary>The cell's outputs as a front end shows them when the cell has finished.</summary>
    public List<CellOutput> Outputs(FrontEnd frontEnd = FrontEnd.Jupyter) => KernelSession.Outputs(Events, frontEnd);

    public IEnumerable<string> Errors => Events.Select(e => e switch
    {
        CommandFailed failed => failed.Message + (failed.Exception is { } x ? "\n" + x : ""),
        ErrorProduced error => error.Message,
        _ => null,
    }).OfType<string>();
}

/// <summary>
/// The real .NET Interactive C# kernel, hosted in this process the way dotnet-interactive builds it
/// for Jupyter and VS Code: a <see cref="CompositeKernel"/> with a <see cref="CSharpKernel"/> that has
/// the kernel helpers (<c>display</c>, <c>HTML</c>) in scope. One session is one kernel: a notebook's
/// cells chain in it, and the next notebook gets a fresh one.
/// </summary>
public sealed class KernelSession : IDisposable
{
    readonly CompositeKernel kernel;

    public KernelSession()
    {
        var csharp = new CSharpKernel().UseKernelHelpers();
        kernel = new CompositeKernel();
        kernel.Add(csharp, ["c#", "C#"]);
        kernel.DefaultKernelName = csharp.Name;
    }

    public async Task<KernelCellRun> SubmitAsync(string code, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var result = await kernel.SendAsync(new SubmitCode(code, "csharp"), cancel);
        return new KernelCellRun(result.Events, clock.Elapsed);
    }

    /// <summary>A variable of the kernel's script state, as the kernel holds it (the notebook's own type).</summary>
    public object? Value(string name)
    {
        var csharp = (CSharpKernel)kernel.FindKernelByName("csharp")!;
        Assert.True(csharp.TryGetValue<object>(name, out var value), $"the kernel has no variable '{name}'");
        return value;
    }

    internal static List<CellOutput> Outputs(IEnumerable<KernelEvent> events, FrontEnd frontEnd)
    {
        var outputs = new List<CellOutput>();
        var byDisplayId = new Dictionary<string, int>();
        foreach (var e in events)
        {
            switch (e)
            {
                case StandardOutputValueProduced stdout:
                    CellOutput.AppendStream(outputs, "stdout", PlainText(stdout.FormattedValues));
                    break;
                case StandardErrorValueProduced stderr:
                    CellOutput.AppendStream(outputs, "stderr", PlainText(stderr.FormattedValues));
                    break;
                case DisplayedValueProduced produced:
                    if (produced.ValueId is { } id) byDisplayId[id] = outputs.Count;
                    outputs.Add(new CellOutput(OutputType.Display, Bundle(produced.FormattedValues)));
                    break;
                case DisplayedValueUpdated updated:
                    if (byDisplayId.TryGetValue(updated.ValueId, out var index))
                        outputs[index] = new CellOutput(OutputType.Display, Bundle(updated.FormattedValues));
                    else if (frontEnd == FrontEnd.Polyglot)
                    {
                        byDisplayId[updated.ValueId] = outputs.Count;
                        outputs.Add(new CellOutput(OutputType.Display, Bundle(updated.FormattedValues)));
                    }
                    break;
                case ReturnValueProduced result:
                    outputs.Add(new CellOutput(OutputType.Result, Bundle(result.FormattedValues)));
                    break;
                case CommandFailed failed:
                    outputs.Add(CellOutput.Error(failed.Message));
                    break;
                case ErrorProduced error:
                    outputs.Add(CellOutput.Error(error.Message));
                    break;
            }
        }
        return outputs;
    }

    static string PlainText(IReadOnlyCollection<FormattedValue> values) =>
        values.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? values.FirstOrDefault()?.Value ?? "";

    static List<KeyValuePair<string, string>> Bundle(IReadOnlyCollection<FormattedValue> values) =>
        values.Where(v => !v.SuppressDisplay).Select(v => KeyValuePair.Create(v.MimeType, v.Value)).ToList();

    public void Dispose() => kernel.Dispose();
}
