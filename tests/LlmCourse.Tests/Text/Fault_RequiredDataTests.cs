using LlmCourse.Tests.Training;
using LlmCourse.Text;
using LlmCourse.Tokenizers;
using static LlmCourse.Tests.Text.DatasetStoreTests;

namespace LlmCourse.Tests.Text;

/// <summary>
/// With LLMCOURSE_REQUIRE_DATA=1 (CI, the lesson tests), a missing dataset stops the lesson with the
/// reason instead of a quiet fallback that would make its checks pass on other data. The variable is
/// process-wide, so these run in the collection that runs alone.
/// </summary>
[Collection(nameof(GlobalGenerator))]
public sealed class Fault_RequiredDataTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("llmcourse-require-").FullName;
    readonly string? before = Environment.GetEnvironmentVariable(DatasetStore.RequireDataVariable);

    public Fault_RequiredDataTests() => Environment.SetEnvironmentVariable(DatasetStore.RequireDataVariable, "1");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(DatasetStore.RequireDataVariable, before);
        Directory.Delete(root, recursive: true);
    }

    DatasetStore Offline() => new(Path.Combine(root, "empty"), Path.Combine(root, "cache"), new RefusingHandler());

    [Fact]
    public void Fault_CorpusFallback_IsRefused_NamingTheDatasetAndTheVariable()
    {
        var log = new StringWriter();

        var e = Assert.Throws<DatasetUnavailableException>(() => Corpus.Load("tinyshakespeare", Offline(), log));

        Assert.Contains("Dataset 'tinyshakespeare'", e.Message);
        Assert.Contains("LLMCOURSE_REQUIRE_DATA=1 is set", e.Message);
        Assert.Contains("instead of using the built-in corpus 'tinyplays'", e.Message);
        Assert.Equal("", log.ToString());
    }

    [Fact]
    public void Fault_Gpt2Skip_IsRefused_NamingTheRanksAndTheVariable()
    {
        var e = Assert.Throws<DatasetUnavailableException>(() => Gpt2Tokenizer.TryLoad(Offline(), TextWriter.Null));

        Assert.Contains("r50k_base", e.Message);
        Assert.Contains("instead of skipping the comparisons with GPT-2's tokenizer", e.Message);
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("", true)]
    [InlineData("1", false)]
    public void TheVariable_IsOnlyOnWhenSet(string value, bool fallsBack)
    {
        Environment.SetEnvironmentVariable(DatasetStore.RequireDataVariable, value);
        if (fallsBack) Assert.Equal(TinyPlays.Name, Corpus.Load("tinyshakespeare", Offline(), TextWriter.Null).Name);
        else Assert.Throws<DatasetUnavailableException>(() => Corpus.Load("tinyshakespeare", Offline(), TextWriter.Null));
    }
}
