namespace LlmCourse.Notebooks.Model;

/// <summary>nbformat's <c>cell_type</c>.</summary>
public enum CellKind
{
    Code,
    Markdown,
    Raw,
}
