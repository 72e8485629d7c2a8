using System.Net;
using System.Security.Cryptography;
using System.Text;
using LlmCourse.Text;
using LlmCourse.TestSupport;

namespace LlmCourse.Tests.Text;

/// <summary>
/// Resolution, verification and failure of dataset downloads, against a local HTTP server so
/// nothing leaves the machine.
/// </summary>
public sealed class DatasetStoreTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-data-").FullName;
    static readonly byte[] Content = Encoding.UTF8.GetBytes("To be, or not to be, that is the question.\n");

    public void Dispose() => Directory.Delete(root, recursive: true);

    static DatasetInfo Dataset(string url, byte[] content) =>
        new("toy", "toy.txt", url, Convert.ToHexStringLower(SHA256.HashData(content)), content.Length, "test", "test");

    [Fact]
    public void Catalog_HoldsTheCourseDatasetsWithTheirHashes()
    {
        var shakespeare = DatasetCatalog.Get("tinyshakespeare");
        Assert.Equal("86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", shakespeare.Sha256);
        Assert.Equal("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt", shakespeare.Url);
        Assert.Equal(1_115_394, shakespeare.Size);
        Assert.Contains("Shakespeare", shakespeare.Licence);
        Assert.Equal("306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930", DatasetCatalog.Get("r50k_base").Sha256);
        Assert.Throws<KeyNotFoundException>(() => DatasetCatalog.Get("no-such-dataset"));
    }

    [Fact]
    public void DataDirectory_IsUsedFirst_WhenItsHashMatches()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "toy.txt"), Content);
        var store = new DatasetStore(data, Path.Combine(root, "cache"), new RefusingHandler());

        Assert.Equal(Path.Combine(data, "toy.txt"), store.GetPath(Dataset("http://127.0.0.1:9/toy.txt", Content)));
    }

    [Fact]
    public void Download_IsVerifiedAndCached_ThenReadFromTheCache()
    {
        using var server = new LocalServer(Content);
        var cache = Path.Combine(root, "cache");
        var progress = new List<DownloadProgress>();
        var store = new DatasetStore(null, cache, progress: new SyncProgress(progress.Add));
        var dataset = Dataset(server.Url, Content);

        var path = store.GetPath(dataset);

        Assert.Equal(Path.Combine(cache, "toy.txt"), path);
        Assert.Equal(Content, File.ReadAllBytes(path));
        Assert.Equal(Content.Length, progress[^1].Received);
        Assert.Empty(Directory.GetFiles(cache, "*.part"));
        Assert.Equal(1, server.Requests);

        store.GetPath(dataset);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public void Download_WithTheWrongHash_IsDiscardedAndTheErrorSaysSo()
    {
        using var server = new LocalServer(Encoding.UTF8.GetBytes("tampered"));
        var cache = Path.Combine(root, "cache");
        var store = new DatasetStore(null, cache);

        var e = Assert.Throws<DatasetUnavailableException>(() => store.GetPath(Dataset(server.Url, Content)));

        Assert.Contains("SHA-256", e.Message);
        Assert.Contains("discarded", e.Message);
        Assert.False(File.Exists(Path.Combine(cache, "toy.txt")));
        Assert.Empty(Directory.Exists(cache) ? Directory.GetFiles(cache) : []);
    }

    [Fact]
    public void Offline_AndMissing_NamesTheFileTheUrlAndTheVariable()
    {
        var store = new DatasetStore(Path.Combine(root, "empty"), Path.Combine(root, "cache"), new RefusingHandler());
        var dataset = Dataset("https://example.invalid/toy.txt", Content);

        var e = Assert.Throws<DatasetUnavailableException>(() => store.GetPath(dataset));

        Assert.Contains("toy.txt", e.Message);
        Assert.Contains("https://example.invalid/toy.txt", e.Message);
        Assert.Contains("LLMCOURSE_DATA", e.Message);
    }

    [Fact]
    public void CorruptLocalCopy_IsNotUsed_AndIsNamedInTheError()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "toy.txt"), "not the right text");
        var store = new DatasetStore(data, Path.Combine(root, "cache"), new RefusingHandler());

        var e = Assert.Throws<DatasetUnavailableException>(() => store.GetPath(Dataset("http://127.0.0.1:9/toy.txt", Content)));

        Assert.Contains(Path.Combine(data, "toy.txt"), e.Message);
        Assert.Contains("not used", e.Message);
    }

    [Fact]
    public void SharedOfflineCopies_MatchTheCatalog_WhenLlmcourseDataIsSet()
    {
        var data = Environment.GetEnvironmentVariable(DatasetStore.DataVariable);
        Assert.SkipWhen(string.IsNullOrEmpty(data), "LLMCOURSE_DATA is not set");
        var store = new DatasetStore(data, Path.Combine(root, "cache"), new RefusingHandler());
        // The course's own downloads must be there; an optional one (TinyStories) is checked when it is.
        foreach (var name in new[] { "tinyshakespeare", "r50k_base" })
            Assert.True(File.Exists(Path.Combine(data!, DatasetCatalog.Get(name).File)), $"{name} is missing from {data}");
        foreach (var dataset in DatasetCatalog.All.Where(d => d.IsHashPinned && File.Exists(Path.Combine(data!, d.File))))
            Assert.Equal(Path.Combine(data!, dataset.File), store.GetPath(dataset));
    }

    static DatasetInfo Unpinned(string url, long size) => new("toy", "toy.txt", url, null, size, "test", "test");

    [Fact]
    public void UnpinnedDataset_IsSizeCheckedRecordedAtTheFirstDownload_AndVerifiedOnEveryLaterUse()
    {
        using var server = new LocalServer(Content);
        var cache = Path.Combine(root, "cache");
        var log = new StringWriter();
        var store = new DatasetStore(null, cache, log: log);
        var dataset = Unpinned(server.Url, Content.Length);

        var path = store.GetPath(dataset);
        var recorded = File.ReadAllText(store.RecordPath(dataset)).Trim();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Content)), recorded);
        Assert.Equal(recorded, store.ExpectedSha256(dataset));
        Assert.Contains("recorded", log.ToString());
        Assert.Contains(recorded, log.ToString());

        // Later use: read from the cache, checked against the record, no new request and no new note.
        log.GetStringBuilder().Clear();
        Assert.Equal(path, store.GetPath(dataset));
        Assert.Equal(1, server.Requests);
        Assert.DoesNotContain("recorded in", log.ToString());

        // The cached copy is altered (same size): it is rejected, and the fresh download matches the record again.
        var altered = (byte[])Content.Clone();
        altered[0] ^= 1;
        File.WriteAllBytes(path, altered);
        Assert.Equal(path, store.GetPath(dataset));
        Assert.Equal(Content, File.ReadAllBytes(path));
        Assert.Equal(2, server.Requests);
        Assert.Contains("not used", log.ToString());

        // Upstream changes its file (same size): the download no longer matches the record and is discarded.
        server.Body = altered;
        File.Delete(path);
        var e = Assert.Throws<DatasetUnavailableException>(() => store.GetPath(dataset));
        Assert.Contains("recorded at its first download", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void UnpinnedDataset_OfTheWrongSize_IsNeverDownloadedNorRecorded()
    {
        using var server = new LocalServer(Content);
        var cache = Path.Combine(root, "cache");
        var store = new DatasetStore(null, cache);
        var dataset = Unpinned(server.Url, Content.Length + 10);

        var e = Assert.Throws<DatasetUnavailableException>(() => store.GetPath(dataset));

        Assert.Contains($"catalog expects {Content.Length + 10}", e.Message);
        Assert.False(File.Exists(store.RecordPath(dataset)));
        Assert.False(File.Exists(Path.Combine(cache, "toy.txt")));
    }

    [Fact]
    public void Catalog_PinsTinyStoriesToOneCommit_WithItsHashLicenceAndSize()
    {
        foreach (var (name, file, size) in new[] { ("tinystories", "TinyStoriesV2-GPT4-valid.txt", 22_502_601L),
                                                   ("tinystories-train", "TinyStoriesV2-GPT4-train.txt", 2_227_753_162L) })
        {
            var stories = DatasetCatalog.Get(name);
            Assert.True(stories.IsHashPinned, $"{name} has no SHA-256");
            Assert.Matches("^[0-9a-f]{64}$", stories.Sha256!);
            // A revision-pinned URL: a 40-digit commit where "main" would let upstream change the file.
            Assert.Matches("^[0-9a-f]{40}$", stories.Revision!);
            Assert.Equal($"https://huggingface.co/datasets/roneneldan/TinyStories/resolve/{stories.Revision}/{file}", stories.Url);
            Assert.Contains("CDLA-Sharing-1.0", stories.Licence);
            Assert.Equal(size, stories.Size);
        }
        Assert.Equal(DatasetCatalog.Get("tinystories").Revision, DatasetCatalog.Get("tinystories-train").Revision);
    }

    [Theory]
    [InlineData(404, "404 (Not Found)")]
    [InlineData(500, "500 (Internal Server Error)")]
    public void Fault_DownloadAnsweredWithAnHttpError_NamesTheStatusAndTheUrl_AndLeavesNothing(int status, string named)
    {
        using var server = new LocalServer(Encoding.UTF8.GetBytes("error page"), status);
        var cache = Path.Combine(root, "cache");

        var e = Assert.Throws<DatasetUnavailableException>(() => new DatasetStore(null, cache).GetPath(Dataset(server.Url, Content)));

        Assert.Contains($"Download from {server.Url} failed", e.Message);
        Assert.Contains(named, e.Message);
        Assert.Contains("set LLMCOURSE_DATA", e.Message);
        Assert.Empty(Directory.Exists(cache) ? Directory.GetFiles(cache) : []);
    }

    [Fact]
    public void Fault_DownloadCutOffPartWay_IsDiscarded_AndAGoodCopyIsKeptIntact()
    {
        var big = Enumerable.Range(0, 200_000).Select(i => (byte)('a' + i % 26)).ToArray();
        using var server = new LocalServer(big, cutAfter: 70_000);
        var cache = Directory.CreateDirectory(Path.Combine(root, "cache")).FullName;

        var e = Assert.Throws<DatasetUnavailableException>(() => new DatasetStore(null, cache).GetPath(Dataset(server.Url, big)));

        Assert.Contains($"Download from {server.Url} failed", e.Message);
        Assert.Empty(Directory.GetFiles(cache));   // no .part, no half file under the dataset's name
    }

    [Fact]
    public void Fault_AZeroByteCopy_IsNamedAsEmpty_AndNotUsed()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        File.WriteAllBytes(Path.Combine(data, "toy.txt"), []);
        var store = new DatasetStore(data, Path.Combine(root, "cache"), new RefusingHandler());

        var e = Assert.Throws<DatasetUnavailableException>(() => store.GetPath(Dataset("http://127.0.0.1:9/toy.txt", Content)));

        Assert.Contains($"{Path.Combine(data, "toy.txt")} is empty (0 bytes", e.Message);
        Assert.Contains("copy the file there again", e.Message);
    }

    [Fact]
    public void Fault_ADatasetPathThatIsAFolder_IsNamed_BothInTheDataFolderAndAsTheDownloadTarget()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        Directory.CreateDirectory(Path.Combine(data, "toy.txt"));
        var cache = Directory.CreateDirectory(Path.Combine(root, "cache")).FullName;
        Directory.CreateDirectory(Path.Combine(cache, "toy.txt"));
        using var server = new LocalServer(Content);

        var e = Assert.Throws<DatasetUnavailableException>(() => new DatasetStore(data, cache).GetPath(Dataset(server.Url, Content)));

        Assert.Contains($"{Path.Combine(data, "toy.txt")} is a folder, not the file toy.txt", e.Message);
        Assert.Contains($"{Path.Combine(cache, "toy.txt")} is a folder where the downloaded file should go; remove it", e.Message);
        Assert.Equal(0, server.Requests);   // nothing downloaded that could not be stored
    }

    [Fact]
    public void Fault_ADataVariableThatIsAFile_IsNamed()
    {
        var file = Path.Combine(root, "notafolder.txt");
        File.WriteAllText(file, "x");

        var e = Assert.Throws<DatasetUnavailableException>(() =>
            new DatasetStore(file, Path.Combine(root, "cache"), new RefusingHandler()).GetPath(Dataset("http://127.0.0.1:9/toy.txt", Content)));

        Assert.Contains($"LLMCOURSE_DATA={file} is a file, not a folder", e.Message);
    }

    [Fact]
    public void Fault_AFullCacheFolder_NamesTheFolderAndTheSpaceNeeded_AndLeavesNoHalfFile()
    {
        using var disk = FaultyDisk.Full(kilobytes: 16);
        var big = Enumerable.Range(0, 100_000).Select(i => (byte)('a' + i % 26)).ToArray();
        using var server = new LocalServer(big);

        var e = Assert.Throws<DatasetUnavailableException>(() => new DatasetStore(null, disk.Path).GetPath(Dataset(server.Url, big)));

        Assert.Contains($"Downloaded from {server.Url}, but the download could not be saved", e.Message);
        Assert.Contains("No space left on device", e.Message);
        Assert.Contains($"The cache folder {disk.Path} must be writable with 98 KiB free", e.Message);
        Assert.Contains("LLMCOURSE_CACHE", e.Message);
        Assert.Empty(Directory.GetFiles(disk.Path));
    }

    [Fact]
    public void Fault_AReadOnlyCacheFolder_NamesTheFolderAndWhatToDo()
    {
        using var disk = FaultyDisk.ReadOnly();
        using var server = new LocalServer(Content);

        var e = Assert.Throws<DatasetUnavailableException>(() =>
            new DatasetStore(null, Path.Combine(disk.Path, "cache")).GetPath(Dataset(server.Url, Content)));

        Assert.Contains("but the download could not be saved", e.Message);
        Assert.Contains($"The cache folder {Path.Combine(disk.Path, "cache")} must be writable", e.Message);
        Assert.Contains("LLMCOURSE_CACHE", e.Message);
    }

    internal sealed class RefusingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel) =>
            throw new HttpRequestException($"network is unreachable ({request.RequestUri})");
    }

    sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }

    /// <summary>Serves one body on a loopback port.</summary>
    sealed class LocalServer : IDisposable
    {
        readonly HttpListener listener = new();
        byte[] body;
        readonly int status;
        readonly int? cutAfter;
        int requests;

        /// <summary>Answers with <paramref name="status"/>; with <paramref name="cutAfter"/>, announces the whole body but drops the connection after that many bytes.</summary>
        public LocalServer(byte[] body, int status = 200, int? cutAfter = null)
        {
            this.body = body;
            this.status = status;
            this.cutAfter = cutAfter;
            for (var attempt = 0; ; attempt++)
            {
                var port = Random.Shared.Next(20000, 60000);
                Url = $"http://127.0.0.1:{port}/toy.txt";
                listener.Prefixes.Clear();
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try { listener.Start(); break; }
                catch (HttpListenerException) when (attempt < 20) { }
            }
            _ = Serve();
        }

        public string Url { get; private set; } = "";
        public int Requests => Volatile.Read(ref requests);

        /// <summary>What the server sends from now on (an upstream file that changed).</summary>
        public byte[] Body { get => Volatile.Read(ref body); set => Volatile.Write(ref body, value); }

        async Task Serve()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) { return; }
                Interlocked.Increment(ref requests);
                var sent = Body;
                context.Response.StatusCode = status;
                context.Response.ContentLength64 = sent.Length;
                if (cutAfter is { } cut)
                {
                    await context.Response.OutputStream.WriteAsync(sent.AsMemory(0, cut));
                    await context.Response.OutputStream.FlushAsync();
                    context.Response.Abort();
                    continue;
                }
                await context.Response.OutputStream.WriteAsync(sent);
                context.Response.Close();
            }
        }

        public void Dispose() => listener.Close();
    }
}
