namespace LlmCourse.Notebooks.Kernel;

/// <summary>The kernel's <c>value.Display()</c> extension; this namespace is imported into every cell.</summary>
public static class DisplayExtensions
{
    public static DisplayedValue Display(this object? value, params string[] mimeTypes) =>
        RunningCell.CurrentOrThrow().Display(value, mimeTypes);
}
