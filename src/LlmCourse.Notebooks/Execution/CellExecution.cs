using LlmCourse.Notebooks.Formatting;
using LlmCourse.Notebooks.Kernel;
using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Execution;

/// <summary>
/// The outputs of the cell that is running. It is found through an async-local, so console writes and
/// <c>display</c> calls land in the cell that made them, also from tasks and threads the cell started.
/// The kernel's helpers find it as their <see cref="IRunningCell"/>.
/// </summary>
public sealed class CellExecution : IRunningCell
{
    readonly Cell cell;
    readonly Lock gate = new();
    readonly Action<CellExecution, MimeBundle>? displayChanged;

    internal CellExecution(Cell cell, int cellIndex, Action<CellExecution, MimeBundle>? displayChanged)
    {
        this.cell = cell;
        CellIndex = cellIndex;
        this.displayChanged = displayChanged;
    }

    public int CellIndex { get; }

    internal static CellExecution? Current
    {
        get => RunningCell.Current as CellExecution;
        set => RunningCell.Current = value;
    }

    internal void WriteStream(string name, string text)
    {
        if (text.Length == 0) return;
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        lock (gate)
        {
            if (cell.Outputs.Count > 0 && cell.Outputs[^1] is { Kind: OutputKind.Stream } last && last.Name == name)
                last.Text += text;
            else
                cell.Outputs.Add(Output.Stream(name, text));
        }
    }

    DisplayedValue IRunningCell.Display(object? value, string[] mimeTypes) => Display(value, mimeTypes);

    void IRunningCell.Update(Output output, object? value, string[] mimeTypes) => Replace(output, Format(value, mimeTypes));

    internal DisplayedValue Display(object? value, string[] mimeTypes)
    {
        var bundle = Format(value, mimeTypes);
        var output = Output.Display(bundle);
        lock (gate) cell.Outputs.Add(output);
        displayChanged?.Invoke(this, bundle);
        return new DisplayedValue(this, output, mimeTypes);
    }

    internal void Replace(Output output, MimeBundle bundle)
    {
        lock (gate) output.Data = bundle.ToJson();
        displayChanged?.Invoke(this, bundle);
    }

    internal void Add(Output output)
    {
        lock (gate) cell.Outputs.Add(output);
    }

    /// <summary>The value's bundle, narrowed to the MIME types asked for (all of them when none are).</summary>
    internal static MimeBundle Format(object? value, string[] mimeTypes)
    {
        var bundle = ValueFormatter.Format(value);
        if (mimeTypes.Length == 0) return bundle;
        var narrowed = new MimeBundle();
        foreach (var (mime, content) in bundle.Items)
            if (mimeTypes.Contains(mime)) narrowed.Add(mime, content);
        return narrowed.Items.Count > 0 ? narrowed : bundle;
    }
}
