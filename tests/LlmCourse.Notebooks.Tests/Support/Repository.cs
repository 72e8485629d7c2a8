namespace LlmCourse.Notebooks.Tests.Support;

/// <summary>The repository the tests were built from: found by walking up to course.sln.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Notebooks => Path.Combine(Root, "notebooks");

    /// <summary>The Release build of the course library that the lesson notebooks #r.</summary>
    public static string ReleaseLibrary => Path.Combine(Root, "artifacts", "bin", "LlmCourse", "release", "LlmCourse.dll");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "course.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No course.sln above {AppContext.BaseDirectory}.");
    }
}
