namespace LlmCourse.Notebooks.Kernel;

/// <summary>
/// The helpers the .NET Interactive C# kernel puts in scope, under the kernel's names. Roslyn
/// scripting makes the public members of this "globals" object visible to every cell as if they
/// were declared there, which is how <c>display(...)</c> and <c>HTML(...)</c> resolve.
/// </summary>
#pragma warning disable IDE1006 // lower-case names, as the kernel spells them
public sealed class KernelGlobals
{
    internal KernelGlobals()
    {
    }

    /// <summary>Shows a value below the cell now (not only at its end); keep the result to update it.</summary>
    public DisplayedValue display(object? value, params string[] mimeTypes) => RunningCell.CurrentOrThrow().Display(value, mimeTypes);

    /// <summary>Markup to show as HTML.</summary>
    public HtmlString HTML(string html) => new(html);
}
#pragma warning restore IDE1006
