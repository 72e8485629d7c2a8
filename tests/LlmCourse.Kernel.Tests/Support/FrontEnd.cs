namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// How a front end turns the kernel's display events into a cell's outputs. They differ on one
/// thing that matters here: an update for a display id it never showed.
/// </summary>
public enum FrontEnd
{
    /// <summary>
    /// Jupyter (JupyterLab, nbconvert, VS Code's Jupyter extension): update_display_data replaces the
    /// output with that display id, and an update for an unknown id is dropped.
    /// </summary>
    Jupyter,

    /// <summary>
    /// VS Code's Polyglot Notebooks: outputs are keyed by display id; an update for an unknown id is
    /// appended as a new output (and later updates with that id replace it).
    /// </summary>
    Polyglot,
}
