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
/// A dataset the catalog lists without a hash (<see cref="DatasetInfo.IsHashPinned"/> false) is
/// size-checked at its first download, its SHA-256 is then recorded beside the cached copy
/// (<c>FILE.sha256</c>) with a note saying so, and every later use is verified against the record.
/// </summary>
public sealed class DatasetStore
{
    public const string DataVariable = "LLMCOURSE_DATA";
    public const string CacheVariable = "LLMCOURSE_CACHE";

    /// <summary>
    /// <c>LLMCOURSE_REQUIRE_DATA=1</c>: where the datasets are known to be present (CI, the lesson tests),
    /// a lesson must not quietly fall back to the built-in corpus or skip its GPT-2 part; the
    /// <see cref="DatasetUnavailableException"/> is thrown instead of being turned into a note.
    /// </summary>
    public const string RequireDataVariable = "LLMCOURSE_REQUIRE_DATA";

    /// <summary>True when <see cref="RequireDataVariable"/> is 1 (or true/yes/on).</summary>
    public static bool DataRequired =>
        Environment.GetEnvironmentVariable(RequireDataVariable)?.Trim().ToLowerInvariant() is "1" or "true" or "yes" or "on";

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

    /// <summary>The error of a lesson that may not fall back: <paramref name="e"/>, saying why the fallback was refused.</summary>
    public static DatasetUnavailableException FallbackRefused(DatasetUnavailableException e, string fallback) =>
        new($"{e.Message}{Environment.NewLine}  {RequireDataVariable}=1 is set (as in CI, where the data is present), so the " +
            $"lesson stops here instead of {fallback}. Fix the data folder, or unset {RequireDataVariable}.", e);

    public string? DataDirectory { get; }
    public string CacheDirectory { get; }
    public IProgress<DownloadProgress>? Progress { get; }
    public TextWriter Log { get; }

    /// <summary>Where a verified copy is now, without downloading; null when there is none.</summary>
    public string? FindLocal(DatasetInfo dataset) => Candidates(dataset).FirstOrDefault(p => IsVerified(p, dataset, out _));

    /// <summary>Where the SHA-256 of a dataset the catalog gives no hash for is recorded.</summary>
    public string RecordPath(DatasetInfo dataset) => Path.Combine(CacheDirectory, dataset.File + ".sha256");

    /// <summary>The hash a copy must have: the catalog's, else the one recorded at the first download, else null (none yet).</summary>
    public string? ExpectedSha256(DatasetInfo dataset)
    {
        if (dataset.Sha256 is not null) return dataset.Sha256;
        var record = RecordPath(dataset);
        return File.Exists(record) ? File.ReadAllText(record).Trim() : null;
    }

    /// <summary>The path of a verified copy of the dataset, downloading it if needed.</summary>
    public string GetPath(string name) => GetPath(DatasetCatalog.Get(name));

    public string GetPath(DatasetInfo dataset) => GetPathAsync(dataset).GetAwaiter().GetResult();

    public string ReadAllText(string name) => File.ReadAllText(GetPath(name));

    public async Task<string> GetPathAsync(DatasetInfo dataset, CancellationToken cancel = default)
    {
        var rejected = new List<string>();
        void Reject(string why)
        {
            rejected.Add(why);
            Log.WriteLine($"warning: {why}.");
        }
        if (DataDirectory is not null && !Directory.Exists(DataDirectory))
            Reject(File.Exists(DataDirectory)
                ? $"{DataVariable}={DataDirectory} is a file, not a folder: set it to the folder that holds {dataset.File}"
                : $"{DataVariable}={DataDirectory} does not exist");
        foreach (var candidate in Candidates(dataset))
        {
            if (Directory.Exists(candidate))
            {
                Reject($"{candidate} is a folder, not the file {dataset.File}: not used");
                continue;
            }
            if (IsVerified(candidate, dataset, out var actual)) return candidate;
            if (actual is null) continue;
            Reject(new FileInfo(candidate).Length == 0
                ? $"{candidate} is empty (0 bytes; an interrupted copy?): not used; delete it, or copy the file there again"
                : $"{candidate} has SHA-256 {actual}, expected {ExpectedSha256(dataset)}{(dataset.IsHashPinned ? "" : " (recorded at its first download)")}: not used");
        }

        var target = Path.Combine(CacheDirectory, dataset.File);
        if (Directory.Exists(target))
            throw new DatasetUnavailableException(Describe(dataset, rejected,
                new IOException($"{target} is a folder where the downloaded file should go; remove it (or set {CacheVariable} to another folder)")));
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

    /// <summary>A download that arrived but could not be stored: the cache folder is read-only or full.</summary>
    sealed class CacheWriteException(string message, Exception inner) : IOException(message, inner);

    /// <summary>Runs a file-system step of storing a download, naming the cache folder and what to do if it fails.</summary>
    T Storing<T>(string path, DatasetInfo dataset, Func<T> step)
    {
        try { return step(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not CacheWriteException)
        {
            throw new CacheWriteException(
                $"the download could not be saved as {path} ({e.Message.TrimEnd('.')}). The cache folder {CacheDirectory} must be " +
                $"writable with {dataset.Size / 1024 + 1:N0} KiB free: free some space, or set {CacheVariable} to another folder", e);
        }
    }

    IEnumerable<string> Candidates(DatasetInfo dataset)
    {
        if (DataDirectory is not null) yield return Path.Combine(DataDirectory, dataset.File);
        yield return Path.Combine(CacheDirectory, dataset.File);
    }

    bool IsVerified(string path, DatasetInfo dataset, out string? actualSha256)
    {
        actualSha256 = null;
        if (!File.Exists(path)) return false;
        var expected = ExpectedSha256(dataset);
        if (expected is null)
        {
            // No hash anywhere yet: a local copy of the catalog's exact size is accepted once, and its hash recorded.
            if (new FileInfo(path).Length != dataset.Size) return false;
            Record(dataset, actualSha256 = Sha256Of(path), $"the copy at {path}");
            return true;
        }
        actualSha256 = Sha256Of(path);
        return string.Equals(actualSha256, expected, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Writes the record atomically and says so on the log and on standard output (a notebook shows it).</summary>
    void Record(DatasetInfo dataset, string sha256, string what)
    {
        var record = RecordPath(dataset);
        Directory.CreateDirectory(CacheDirectory);
        var temp = $"{record}.{Guid.NewGuid():N}.part";
        File.WriteAllText(temp, sha256 + "\n");
        File.Move(temp, record, overwrite: true);
        var note = $"Note: the catalog has no SHA-256 for '{dataset.Name}'; {what} has the expected size ({dataset.Size:N0} bytes), " +
                   $"so its SHA-256 {sha256} is now recorded in {record}, and every later use is checked against it.";
        Log.WriteLine(note);
        if (Log != Console.Out) Console.WriteLine(note);
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    async Task DownloadAsync(DatasetInfo dataset, string target, CancellationToken cancel)
    {
        Storing(target, dataset, () => Directory.CreateDirectory(Path.GetDirectoryName(target)!));
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.part";
        try
        {
            using var client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
            client.Timeout = TimeSpan.FromMinutes(10);
            using var response = await client.GetAsync(dataset.Url, HttpCompletionOption.ResponseHeadersRead, cancel)
                .ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var expected = ExpectedSha256(dataset);
            if (expected is null && response.Content.Headers.ContentLength is { } announced && announced != dataset.Size)
                throw new InvalidDataException(
                    $"{dataset.Url} announces {announced:N0} bytes, but the catalog expects {dataset.Size:N0}; with no SHA-256 to check, the download was not started");
            var total = response.Content.Headers.ContentLength ?? dataset.Size;

            await using (var source = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false))
            await using (var file = Storing(temp, dataset, () => new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1)))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[1 << 16];
                long received = 0;
                int read;
                while ((read = await source.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
                {
                    if (received + read > total + (1 << 20))
                        throw new InvalidDataException($"the download from {dataset.Url} is larger than the {total:N0} bytes announced; it was discarded");
                    Storing(temp, dataset, () => { file.Write(buffer, 0, read); return 0; });
                    hash.AppendData(buffer, 0, read);
                    received += read;
                    Progress?.Report(new DownloadProgress(dataset.File, received, total));
                }
                if (response.Content.Headers.ContentLength is { } length && received < length)
                    throw new IOException($"the download from {dataset.Url} stopped after {received:N0} of {length:N0} bytes; it was discarded (try again)");
                Storing(temp, dataset, () => { file.Flush(flushToDisk: true); return 0; });
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (expected is null)
                {
                    if (received != dataset.Size)
                        throw new InvalidDataException(
                            $"the download from {dataset.Url} has {received:N0} bytes, expected {dataset.Size:N0}; with no SHA-256 to check, it was discarded");
                    Storing(target, dataset, () => { File.Move(temp, target, overwrite: true); return 0; });
                    Record(dataset, actual, $"the download from {dataset.Url}");
                    return;
                }
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                    throw new InvalidDataException(
                        $"the download from {dataset.Url} has SHA-256 {actual}, expected {expected}{(dataset.IsHashPinned ? "" : " (recorded at its first download)")}; it was discarded");
            }
            Storing(target, dataset, () => { File.Move(temp, target, overwrite: true); return 0; });
        }
        finally
        {
            try { if (File.Exists(temp)) File.Delete(temp); }
            catch (IOException) { }   // on a read-only folder there is nothing to delete; keep the first error
            catch (UnauthorizedAccessException) { }
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
        lines.Add(e is CacheWriteException ? $"  Downloaded from {dataset.Url}, but {e.Message}." : $"  Download from {dataset.Url} failed: {e.Message}");
        lines.Add($"  On a machine without internet, copy {dataset.File} ({(ExpectedSha256(dataset) is { } sha ? $"SHA-256 {sha}" : $"{dataset.Size:N0} bytes")}) into a folder " +
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
