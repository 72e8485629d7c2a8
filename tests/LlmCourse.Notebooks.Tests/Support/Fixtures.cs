namespace LlmCourse.Notebooks.Tests.Support;

/// <summary>Fixture notebooks, each copied into a fresh folder so a test can write beside it.</summary>
public sealed class FixtureFolder : IDisposable
{
    public FixtureFolder()
    {
        Path = Directory.CreateTempSubdirectory("llmcourse-nb-").FullName;
    }

    public string Path { get; }

    public static string Source(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>Copies a fixture notebook (and the helper files beside it) and returns the copy's path.</summary>
    public string Copy(string name)
    {
        var source = System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = System.IO.Path.Combine(Path, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        return System.IO.Path.Combine(Path, name);
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
