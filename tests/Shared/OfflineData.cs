using System.Runtime.CompilerServices;

namespace LlmCourse.TestSupport;

/// <summary>
/// The development machines keep offline copies of the downloadable datasets in
/// <c>../shared/datasets</c> beside the repository. When <c>LLMCOURSE_DATA</c> is not set and that
/// folder exists, the tests read from it, so the README's <c>dotnet test</c> exercises the data tests
/// (GPT-2 parity, lesson 04) instead of skipping them. Anywhere else nothing changes: the data tests
/// skip and say why, and the library never looks there.
/// </summary>
internal static class OfflineData
{
    [ModuleInitializer]
    internal static void UseTheSharedCopiesWhenNoFolderIsSet()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("LLMCOURSE_DATA"))) return;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "course.sln"))) continue;
            var shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets"));
            if (Directory.Exists(shared)) Environment.SetEnvironmentVariable("LLMCOURSE_DATA", shared);
            return;
        }
    }
}
