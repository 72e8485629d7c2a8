using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Kernel;

/// <summary>
/// The cell that is running, as the kernel's helpers (<c>display</c>, <c>.Display()</c>, <c>Update</c>)
/// see it. The runner's cell (<c>Execution.CellExecution</c>) implements it and sets <see cref="Current"/>,
/// so the helpers depend on this small interface and not on the runner that hosts them.
/// </summary>
internal interface IRunningCell
{
    DisplayedValue Display(object? value, string[] mimeTypes);

    /// <summary>Formats the value again and puts it where <paramref name="output"/> was shown.</summary>
    void Update(Output output, object? value, string[] mimeTypes);
}

internal static class RunningCell
{
    // An async-local, so display calls land in the cell that made them, also from tasks and threads it started.
    static readonly AsyncLocal<IRunningCell?> current = new();

    internal static IRunningCell? Current
    {
        get => current.Value;
        set => current.Value = value;
    }

    internal static IRunningCell CurrentOrThrow() => current.Value
        ?? throw new InvalidOperationException("display() was called outside a running notebook cell.");
}
