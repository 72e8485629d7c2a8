using LlmCourse.Text;

namespace LlmCourse.Tests.Text;

public sealed class CorpusTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-corpus-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Split_IsTheFirstNinetyPercentAndTheRest()
    {
        var corpus = new Corpus("toy", "0123456789abcdefghij", "test");
        Assert.Equal(18, corpus.SplitIndex);   // (int)(20 * 0.9), as nanoGPT's prepare.py
        Assert.Equal("0123456789abcdefgh", corpus.Train);
        Assert.Equal("ij", corpus.Validation);
        Assert.Equal(corpus.Text, corpus.Train + corpus.Validation);
        Assert.Throws<ArgumentException>(() => new Corpus("tiny", "a", "test"));

        var prefix = corpus.Take(10);
        Assert.Equal("0123456789", prefix.Text);
        Assert.Equal("012345678", prefix.Train);
        Assert.Contains("first 10 characters", prefix.Source);
        Assert.Same(corpus, corpus.Take(100));
    }

    [Fact]
    public void Offline_FallsBackToTheBuiltInCorpus_AndSaysSo()
    {
        var store = new DatasetStore(Path.Combine(root, "empty"), Path.Combine(root, "cache"), new RefusingHandler());
        var log = new StringWriter();

        var corpus = Corpus.Load("tinyshakespeare", store, log);

        Assert.Equal(TinyPlays.Name, corpus.Name);
        Assert.Contains("tinyshakespeare", log.ToString());
        Assert.Contains("built-in corpus 'tinyplays'", log.ToString());
        Assert.Contains("datasets/tinyplays.txt", corpus.Source);
    }

    [Fact]
    public void BuiltIn_ByName_NeedsNoStore()
    {
        var store = new DatasetStore(null, Path.Combine(root, "cache"), new RefusingHandler());
        var log = new StringWriter();
        var corpus = Corpus.Load("tinyplays", store, log);
        Assert.Equal("tinyplays", corpus.Name);
        Assert.Equal("", log.ToString());
        Assert.True(corpus.Text.Length > 300_000);
    }

    [Fact]
    public void TinyShakespeare_LoadsFromLlmcourseData_WithNanoGptsSplit()
    {
        var data = Environment.GetEnvironmentVariable(DatasetStore.DataVariable);
        Assert.SkipWhen(string.IsNullOrEmpty(data), "LLMCOURSE_DATA is not set");
        var corpus = Corpus.Load("tinyshakespeare", new DatasetStore(data, Path.Combine(root, "cache"), new RefusingHandler()));
        Assert.Equal("tinyshakespeare", corpus.Name);
        Assert.Equal(1_115_394, corpus.Text.Length);
        // nanoGPT's data/shakespeare_char/prepare.py: train has 1,003,854 tokens, val has 111,540.
        Assert.Equal(1_003_854, corpus.Train.Length);
        Assert.Equal(111_540, corpus.Validation.Length);
        Assert.StartsWith("First Citizen:", corpus.Text);
    }

    sealed class RefusingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel) =>
            throw new HttpRequestException($"network is unreachable ({request.RequestUri})");
    }
}
