using System.Text.Json.Nodes;

namespace LlmCourse.Notebooks.Model;

/// <summary>
/// The metadata the .NET Interactive C# kernel (Polyglot Notebooks) writes, so the notebooks open in
/// VS Code and Jupyter with that kernel selected.
/// </summary>
public static class DotNetKernel
{
    public const string KernelSpecName = ".net-csharp";
    public const string KernelName = "csharp";

    public static JsonObject NotebookMetadata() => new()
    {
        ["kernelspec"] = new JsonObject
        {
            ["display_name"] = ".NET (C#)",
            ["language"] = "C#",
            ["name"] = KernelSpecName,
        },
        ["language_info"] = new JsonObject
        {
            ["file_extension"] = ".cs",
            ["mimetype"] = "text/x-csharp",
            ["name"] = "C#",
            ["pygments_lexer"] = "csharp",
            ["version"] = "13.0",
        },
        ["polyglot_notebook"] = new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = KernelName,
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = KernelName }),
            },
        },
    };

    public static JsonObject CodeCellMetadata() => new()
    {
        ["dotnet_interactive"] = new JsonObject { ["language"] = KernelName },
        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = KernelName },
    };
}
