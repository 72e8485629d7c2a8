using LlmCourse.Notebooks.Model;

namespace LlmCourse.Notebooks.Kernel;

/// <summary>
/// What <c>display(value)</c> returns, named as in the kernel: <see cref="Update"/> replaces the
/// displayed output in place, which is how a notebook shows a live chart during a long loop.
/// </summary>
public sealed class DisplayedValue
{
    readonly IRunningCell cell;
    readonly Output output;
    readonly string[] mimeTypes;

    internal DisplayedValue(IRunningCell cell, Output output, string[] mimeTypes)
    {
        this.cell = cell;
        this.output = output;
        this.mimeTypes = mimeTypes;
    }

    public string DisplayId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Formats <paramref name="value"/> again and puts it where the first one was shown.</summary>
    public void Update(object? value) => cell.Update(output, value, mimeTypes);
}
