using LlmCourse.Data;
using LlmCourse.Tests.Text;
using LlmCourse.Text;

namespace LlmCourse.Tests.Data;

public sealed class WebLikeCorpusTests
{
    [Fact]
    public void CommittedFile_EqualsWhatTheCodeBuildsFromTheBuiltInPlays()
    {
        var path = Path.Combine(TinyPlaysTests.DatasetsFolder(), WebLikeCorpus.FileName);
        var generated = WebLikeCorpus.Build(Corpus.BuiltIn()).ToJsonLines();
        if (Environment.GetEnvironmentVariable("LLMCOURSE_REGENERATE") == "1")
            File.WriteAllText(path, generated);

        var committed = File.ReadAllText(path);
        Assert.True(committed == generated,
            $"{path} differs from WebLikeCorpus.Build(Corpus.BuiltIn()); regenerate it with " +
            "LLMCOURSE_REGENERATE=1 dotnet test tests/LlmCourse.Tests -c Release --filter WebLikeCorpus");
        Assert.InRange(new FileInfo(path).Length, 100_000, 3_000_000);
    }

    [Fact]
    public void JsonLines_RoundTrip()
    {
        var web = WebLikeCorpus.Build(Corpus.BuiltIn().Take(60_000));
        var back = WebLikeCorpus.FromJsonLines(web.ToJsonLines());
        Assert.Equal(web.Documents, back.Documents);
        Assert.Equal(web.HeldOut, back.HeldOut);
        Assert.All(web.Documents, d => Assert.Equal(web.KindOf(d), back.KindOf(d)));
    }

    [Fact]
    public void Crawl_HasEveryKindOfNoise_AndNeverTheHeldOutText()
    {
        var corpus = Corpus.BuiltIn();
        var web = WebLikeCorpus.Build(corpus);
        var kinds = web.Documents.Select(web.KindOf).ToHashSet();
        foreach (var kind in new[] { WebLikeCorpus.Clean, WebLikeCorpus.Boilerplate, WebLikeCorpus.ExactDuplicate, WebLikeCorpus.NearDuplicate,
                                     WebLikeCorpus.KeywordSpam, WebLikeCorpus.Gibberish, WebLikeCorpus.AsciiArt, WebLikeCorpus.NumberTable, WebLikeCorpus.TemplatedSpam })
            Assert.Contains(kind, kinds);
        Assert.Equal(corpus.Validation, web.HeldOut);
        var crawl = WebLikeCorpus.Concatenate(web.Documents);
        // Every clean page is a piece of the training part, verbatim.
        Assert.All(web.Documents.Where(d => web.KindOf(d) == WebLikeCorpus.Clean).Take(20), d => Assert.Contains(d.Text.TrimEnd('\n'), corpus.Train));
        // No 200-character stretch of the held-out text appears in the crawl.
        for (var at = 0; at + 200 <= web.HeldOut.Length; at += 5_000)
            Assert.DoesNotContain(web.HeldOut.Substring(at, 200), crawl);
    }

    [Fact]
    public void Pipeline_RemovesDuplicatesAndJunk_AndKeepsMostCleanPages()
    {
        var web = WebLikeCorpus.Build(Corpus.BuiltIn());
        var (kept, _) = new DataPipeline(new DocumentDedup(), new NearDedup(), new LineDedup(),
            QualityFilter.Gopher(), QualityFilter.GopherRepetition()).Run(web.Documents);
        double KeptShare(string kind) =>
            (double)kept.Count(d => web.KindOf(d) == kind) / web.Documents.Count(d => web.KindOf(d) == kind);

        Assert.Equal(0, KeptShare(WebLikeCorpus.ExactDuplicate));
        Assert.True(KeptShare(WebLikeCorpus.NearDuplicate) < 0.1);
        foreach (var junk in new[] { WebLikeCorpus.KeywordSpam, WebLikeCorpus.Gibberish, WebLikeCorpus.AsciiArt, WebLikeCorpus.NumberTable, WebLikeCorpus.TemplatedSpam })
            Assert.True(KeptShare(junk) == 0, $"{junk}: {KeptShare(junk):P0} kept");
        Assert.True(KeptShare(WebLikeCorpus.Clean) > 0.95, $"clean: {KeptShare(WebLikeCorpus.Clean):P0} kept");
    }
}
