namespace LlmCourse.Kernel.Tests.Support;

/// <summary>
/// A fresh, empty LLMCOURSE_CACHE for the runs of one notebook, emptied again between them (one
/// folder, because lesson 00 prints where the cache is). Lessons hand results to later ones
/// through files there (the shared leaderboard, {cache}/results/*-quick.json): the kernel run and the
/// runner run of a notebook must start from the same files, which the other run, the lesson tests
/// running in parallel in another test process, or an earlier test would otherwise have changed.
/// Datasets are still read from LLMCOURSE_DATA, or else from the user's cache, where the library
/// would have put them, so nothing is downloaded again.
/// </summary>
public sealed class IsolatedCache : IDisposable
{
    public IsolatedCache()
    {
        Path = Directory.CreateTempSubdirectory("llmcourse-kernel-cache-").FullName;
        var data = System.Environment.GetEnvironmentVariable("LLMCOURSE_DATA");
        Environment = new Dictionary<string, string?>
        {
            ["LLMCOURSE_CACHE"] = Path,
            ["LLMCOURSE_DATA"] = string.IsNullOrWhiteSpace(data) ? UserCache() : data,
        };
    }

    public string Path { get; }

    /// <summary>The variables a run gets: its own cache, the datasets from where they are.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>Where the library caches by default (DatasetStore.DefaultCacheDirectory).</summary>
    static string UserCache()
    {
        var cache = System.Environment.GetEnvironmentVariable("LLMCOURSE_CACHE");
        if (!string.IsNullOrWhiteSpace(cache)) return cache;
        var xdg = System.Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return System.IO.Path.Combine(!string.IsNullOrWhiteSpace(xdg) ? xdg
            : System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache"), "llmcourse");
    }

    /// <summary>Empties the folder, for the next run.</summary>
    public void Reset()
    {
        Directory.Delete(Path, recursive: true);
        Directory.CreateDirectory(Path);
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
