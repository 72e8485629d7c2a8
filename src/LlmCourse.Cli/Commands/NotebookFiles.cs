namespace LlmCourse.Cli.Commands;

/// <summary>The notebooks named on a command line: files as given, folders as their *.ipynb in name order.</summary>
static class NotebookFiles
{
    public static (List<string> Notebooks, List<string> Problems) Find(IEnumerable<string> paths)
    {
        var notebooks = new List<string>();
        var problems = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = Directory.EnumerateFiles(path, "*.ipynb", SearchOption.TopDirectoryOnly)
                    .Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) problems.Add($"{path}: no .ipynb notebooks in this folder");
                notebooks.AddRange(found);
            }
            else if (File.Exists(path))
            {
                if (!path.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase)) problems.Add($"{path}: not a .ipynb notebook");
                else notebooks.Add(path);
            }
            else problems.Add($"{path}: no such file or folder");
        }
        return (notebooks, problems);
    }

    public static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
}
