namespace LlmCourse.Kernel.Tests.Support;

/// <summary>The repository the tests were built from, and the builds the notebooks and the runner use.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Notebooks => Path.Combine(Root, "notebooks");

    /// <summary>Where the lessons' #r lines point: the Release build of the course library.</summary>
    public static string ReleaseFolder(string project) => Path.Combine(Root, "artifacts", "bin", project, "release");

    /// <summary>The `llmcourse` command, as `dotnet build course.sln -c Release` leaves it.</summary>
    public static string Cli => Path.Combine(ReleaseFolder("LlmCourse.Cli"), "LlmCourse.Cli.dll");

    public static IReadOnlyList<string> LessonNotebooks() =>
        Directory.EnumerateFiles(Notebooks, "*.ipynb").Order(StringComparer.Ordinal).ToList();

    /// <summary>Fails with what to do when the Release build the notebooks need is not there.</summary>
    public static void RequireReleaseBuild()
    {
        foreach (var path in new[] { Path.Combine(ReleaseFolder("LlmCourse"), "LlmCourse.dll"), Cli })
            Assert.True(File.Exists(path),
                $"{path} is missing: the kernel tests run the notebooks against the Release build; run `dotnet build course.sln -c Release` " +
                "from the repository root (or `dotnet test course.sln -c Release`, which builds it).");
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "course.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No course.sln above {AppContext.BaseDirectory}.");
    }
}
