using LlmCourse.Tests.Text;
using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>Loading GPT-2's tokenizer, and lesson 04's way of going on without it offline.</summary>
public sealed class Gpt2TokenizerTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-gpt2-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void TryLoad_Offline_GivesNull_AndSaysWhereTheRanksComeFrom()
    {
        var store = new DatasetStore(Path.Combine(root, "empty"), Path.Combine(root, "cache"), new DatasetStoreTests.RefusingHandler());
        var log = new StringWriter();

        Assert.Null(Gpt2Tokenizer.TryLoad(store, log));

        var note = log.ToString();
        Assert.Contains("GPT-2's tokenizer is not available here", note);
        Assert.Contains("r50k_base.tiktoken", note);
        Assert.Contains(DatasetCatalog.Get("r50k_base").Url, note);
        Assert.Contains("LLMCOURSE_DATA", note);
    }

    [Fact]
    public void TryLoad_WithTheRanks_IsGpt2sTokenizer_AndSaysNothing()
    {
        var folder = Path.GetDirectoryName(TestData.R50kPath())!;
        var store = new DatasetStore(folder, Path.Combine(root, "cache"), new DatasetStoreTests.RefusingHandler());
        var log = new StringWriter();

        var gpt2 = Gpt2Tokenizer.TryLoad(store, log);

        Assert.NotNull(gpt2);
        Assert.Equal(50_257, gpt2.VocabSize);
        Assert.Equal([15496, 995], gpt2.Encode("Hello world"));
        Assert.Equal("", log.ToString());
    }
}
