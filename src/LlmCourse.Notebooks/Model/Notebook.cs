using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>
/// A Jupyter notebook (nbformat 4.5). What this model does not name is kept as JSON in
/// <see cref="Extra"/> and in the metadata objects, so reading and writing a notebook keeps
/// what other tools put there.
/// </summary>
public sealed class Notebook
{
    public int FormatMajor { get; set; } = 4;
    public int FormatMinor { get; set; } = 5;
    public JsonObject Metadata { get; set; } = DotNetKernel.NotebookMetadata();
    public List<Cell> Cells { get; } = [];

    /// <summary>Top-level fields this model does not name, kept as they were.</summary>
    public JsonObject Extra { get; set; } = [];

    /// <summary>An empty notebook with the .NET (C#) kernel metadata.</summary>
    public static Notebook Create(params IEnumerable<Cell> cells)
    {
        var notebook = new Notebook();
        notebook.Cells.AddRange(cells);
        return notebook;
    }

    public IEnumerable<Cell> CodeCells => Cells.Where(c => c.Kind == CellKind.Code);

    /// <summary>A deep copy, so a run can fill in outputs without touching the notebook it was given.</summary>
    public Notebook Clone()
    {
        var copy = new Notebook
        {
            FormatMajor = FormatMajor,
            FormatMinor = FormatMinor,
            Metadata = (JsonObject)Metadata.DeepClone(),
            Extra = (JsonObject)Extra.DeepClone(),
        };
        copy.Cells.AddRange(Cells.Select(c => c.Clone()));
        return copy;
    }
}
