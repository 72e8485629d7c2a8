using System.Net.Http;
using System.Security.Cryptography;
using LlmCourse.Tensors.Formatting;

namespace LlmCourse.Text;

/// <summary>How far a download has got, for progress bars.</summary>
[TypeFormatterSource(typeof(TextFormatterSource))]
public readonly record struct DownloadProgress(string File, long Received, long? Total);

/// <summary>
/// Finds a dataset file, in this order: the folder named by <c>LLMCOURSE_DATA</c>, the user's cache
/// folder, then a download from the canonical URL. Every copy is checked against the catalog's
/// SHA-256 before it is used; downloads go to a temporary file that is renamed only once verified,
/// so an interrupted download never leaves a half file behind.
/// </summary>
public sealed class DatasetStore
{
    public const string DataVariable = "LLMCOURSE_DATA";
    public const string CacheVariable = "LLMCOURSE_CACHE";

    readonly HttpMessageHandler? handler;

    public DatasetStore(string? dataDirectory, string cacheDirectory, HttpMessageHandler? handler = null,
        IProgress<DownloadProgress>? progress = null, TextWriter? log = null)
    {
        DataDirectory = string.IsNullOrWhiteSpace(dataDirectory) ? null : dataDirectory;
        CacheDirectory = cacheDirectory;
        this.handler = handler;
        Progress = progress;
        Log = log ?? TextWriter.Null;
    }

    /// <summary>The store that notebooks and the CLI use, configured from the environment.</summary>
    public static DatasetStore Default => new(
        Environment.GetEnvironmentVariable(DataVariable),
        DefaultCacheDirectory(),
        progress: new ConsoleDownloadProgress(),
        log: Console.Error);

    /// <summary><c>LLMCOURSE_CACHE</c>, else <c>$XDG_CACHE_HOME/llmcourse</c>, else <c>~/.cache/llmcourse</c>.</summary>
    public static string DefaultCacheDirectory()
    {
        var explicitCache = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(explicitCache)) return explicitCache;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrWhiteSpace(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "llmcourse");
    }

    public string? DataDirectory { get; }
    public string CacheDirectory { get; }
    public IProgress<DownloadProgress>? Progress { get; }
    public TextWriter Log { get; }

    /// <summary>Where a verified copy is now, without downloading; null when there is none.</summary>
    public string? FindLocal(DatasetInfo dataset) => Candidates(dataset).FirstOrDefault(p => IsVerified(p, dataset, out _));

    /// <summary>The path of a verified copy of the dataset, downloading it if needed.</summary>
    public string GetPath(string name) => GetPath(DatasetCatalog.Get(name));

    public string GetPath(DatasetInfo dataset) => GetPathAsync(dataset).GetAwaiter().GetResult();

    public string ReadAllText(string name) => File.ReadAllText(GetPath(name));

    public async Task<string> GetPathAsync(DatasetInfo dataset, CancellationToken cancel = default)
    {
        var rejected = new List<string>();
        foreach (var candidate in Candidates(dataset))
        {
            if (IsVerified(candidate, dataset, out var actual)) return candidate;
            if (actual is not null)
            {
                var why = $"{candidate} has SHA-256 {actual}, expected {dataset.Sha256}: not used";
                rejected.Add(why);
                Log.WriteLine($"warning: {why}.");
            }
        }

        var target = Path.Combine(CacheDirectory, dataset.File);
        try
        {
            await DownloadAsync(dataset, target, cancel).ConfigureAwait(false);
            return target;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException
                                      or UnauthorizedAccessException or InvalidDataException)
        {
            throw new DatasetUnavailableException(Describe(dataset, rejected, e), e);
        }
    }

    IEnumerable<string> Candidates(DatasetInfo dataset)
    {
        if (DataDirectory is not null) yield return Path.Combine(DataDirectory, dataset.File);
        yield return Path.Combine(CacheDirectory, dataset.File);
    }

    static bool IsVerified(string path, DatasetInfo dataset, out string? actualSha256)
    {
        actualSha256 = null;
        if (!File.Exists(path)) return false;
        actualSha256 = Sha256Of(path);
        return string.Equals(actualSha256, dataset.Sha256, StringComparison.OrdinalIgnoreCase);
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    async Task DownloadAsync(DatasetInfo dataset, string target, CancellationToken cancel)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.part";
        try
        {
            using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
            client.Timeout = TimeSpan.FromMinutes(10);
            using var response = await client.GetAsync(dataset.Url, HttpCompletionOption.ResponseHeadersRead, cancel)
                .ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var total = response.Content.Headers.ContentLength ?? dataset.Size;

            await using (var source = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 16];
                long received = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancel).ConfigureAwait(false);
                    hash.AppendData(buffer, 0, read);
                    received += read;
                    Progress?.Report(new DownloadProgress(dataset.File, received, total));
                }
                await file.FlushAsync(cancel).ConfigureAwait(false);
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!string.Equals(actual, dataset.Sha256, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException(
                        $"the download from {dataset.Url} has SHA-256 {actual}, expected {dataset.Sha256}; it was discarded");
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    string Describe(DatasetInfo dataset, List<string> rejected, Exception e)
    {
        var data = DataDirectory is null ? $"{DataVariable} is not set" : $"{DataVariable}={DataDirectory}";
        var lines = new List<string>
        {
            $"Dataset '{dataset.Name}' ({dataset.File}) is not available.",
            $"  Looked in: {(DataDirectory is null ? "" : Path.Combine(DataDirectory, dataset.File) + ", ")}{Path.Combine(CacheDirectory, dataset.File)} ({data}).",
        };
        lines.AddRange(rejected.Select(r => "  Rejected: " + r + "."));
        lines.Add($"  Download from {dataset.Url} failed: {e.Message}");
        lines.Add($"  On a machine without internet, copy {dataset.File} (SHA-256 {dataset.Sha256}) into a folder " +
                  $"and set {DataVariable} to that folder.");
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>A one-line progress bar on standard error, for notebooks and the command line.</summary>
public sealed class ConsoleDownloadProgress : IProgress<DownloadProgress>
{
    long lastPercent = -1;

    public void Report(DownloadProgress value)
    {
        var percent = value.Total is > 0 ? value.Received * 100 / value.Total.Value : -1;
        if (percent == lastPercent) return;
        lastPercent = percent;
        var bar = percent < 0 ? "" : "[" + new string('#', (int)(percent / 5)).PadRight(20) + $"] {percent,3}% ";
        Console.Error.Write($"\rdownloading {value.File} {bar}{value.Received / 1024:N0} KiB");
        if (percent == 100) Console.Error.WriteLine();
    }
}
