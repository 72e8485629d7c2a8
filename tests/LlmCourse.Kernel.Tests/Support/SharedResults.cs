namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// Lessons hand results to later ones through files ({cache}/results/*-quick.json, the shared
/// leaderboard). The kernel run and the runner run of one notebook must start from the same files,
/// or the second sees what the first added: this takes them as they are and puts them back.
/// </summary>
public sealed class SharedResults
{
    readonly Dictionary<string, byte[]> files;

    SharedResults(Dictionary<string, byte[]> files) => this.files = files;

    /// <summary>The folder, found as the library finds it (Leaderboard.SharedPath, DatasetStore.DefaultCacheDirectory).</summary>
    public static string Folder
    {
        get
        {
            var cache = Environment.GetEnvironmentVariable("LLMCOURSE_CACHE");
            if (string.IsNullOrWhiteSpace(cache))
            {
                var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                cache = Path.Combine(!string.IsNullOrWhiteSpace(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "llmcourse");
            }
            return Path.Combine(cache, "results");
        }
    }

    static IEnumerable<string> QuickFiles() =>
        Directory.Exists(Folder) ? Directory.EnumerateFiles(Folder, "*-quick.json") : [];

    public static SharedResults Take() => new(QuickFiles().ToDictionary(f => f, File.ReadAllBytes));

    public void Restore()
    {
        foreach (var file in QuickFiles().Where(f => !files.ContainsKey(f))) File.Delete(file);
        foreach (var (file, bytes) in files) File.WriteAllBytes(file, bytes);
    }
}
