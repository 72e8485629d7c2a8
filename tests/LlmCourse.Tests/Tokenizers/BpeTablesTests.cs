using System.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

public sealed class BpeTablesTests
{
    [Fact]
    public void MergeList_OfTheTextbookExample()
    {
        var tokenizer = BpeTokenizer.Train("aaabdaaabac", 259);
        var merges = BpeTables.Merges(tokenizer);
        Assert.Equal(new MergeEntry(0, 256, "a", "a", "aa", 4), merges[0]);
        Assert.Equal(new MergeEntry(2, 258, "aa", "ab", "aaab", 2), merges[2]);
    }

    [Fact]
    public void Stats_OfGpt2()
    {
        var stats = BpeTables.Stats(TestData.Gpt2());
        Assert.Equal(50_257, stats.VocabSize);
        Assert.Equal(256, stats.ByteTokens);
        Assert.Equal(50_000, stats.MergedTokens);
        Assert.Equal(1, stats.SpecialTokens);
        Assert.Equal(50_256, stats.Lengths.Sum(l => l.Tokens));
        // The longest tokens are as long as the histogram says.
        Assert.Equal(stats.Lengths[^1].Bytes, Encoding.UTF8.GetByteCount(stats.LongestTokens[0]));
    }

    [Fact]
    public void BytesPerToken_GrowsWithTheVocabulary()
    {
        var text = TestData.Shakespeare()[..100_000];
        Assert.Equal(1.0, BpeTables.BytesPerToken(new ByteTokenizer(), text));
        var small = BpeTables.BytesPerToken(RegexBpeTokenizer.Train(text, 300), text);
        var large = BpeTables.BytesPerToken(RegexBpeTokenizer.Train(text, 1000), text);
        Assert.True(1.0 < small && small < large, $"bytes per token: 256 → 1.0, 300 → {small:F2}, 1000 → {large:F2}");
    }

    [Fact]
    public void TokenView_ShowsEachTokenWithItsId()
    {
        var gpt2 = TestData.Gpt2();
        const string text = "Hello world\n😀";
        var view = TokenizerViews.Tokens(gpt2, text);
        Assert.Equal(gpt2.Encode(text), view.Ids);
        Assert.Equal(["Hello", " world", "\n"], view.Tokens.Take(3));
        Assert.Equal(text, string.Concat(view.Tokens.Where(t => !t.StartsWith("\\x", StringComparison.Ordinal)).Append("😀")));
        Assert.Contains("Hello", view.ToHtml());
    }

    [Fact]
    public void MergeTable_HasARowPerMerge()
    {
        var table = TokenizerViews.Merges(BpeTokenizer.Train("aaabdaaabac", 259), take: 3);
        Assert.Equal(3, table.Rows.Count);
        Assert.Equal(["rank", "id", "left", "right", "token", "pair count"], table.Columns);
        Assert.Equal([2, 258, "'aa'", "'ab'", "'aaab'", 2L], table.Rows[2]);
    }
}
