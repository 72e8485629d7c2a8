using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Text;

public sealed class WordTokenizerTests
{
    [Fact]
    public void Splits_WordsPunctuationAndLineBreaks()
    {
        Assert.Equal(["KING", ":", "\n", "Ne'er", "so", "cold", ",", "my", "lord", "!", "\n"],
            WordTokenizer.Split("KING:\nNe'er so cold, my lord!\n"));
    }

    [Fact]
    public void RoundTrips_TheBuiltInCorpus()
    {
        var text = TinyPlays.Generate(30_000);
        var tokenizer = WordTokenizer.FromText(text);
        // TinyPlays puts one space between words and none before punctuation, so decoding restores it exactly,
        // except the single space after a question mark inside an answer line ("From the north? The ...").
        var decoded = tokenizer.Decode(tokenizer.Encode(text));
        Assert.Equal(text.Replace("? ", "?"), decoded.Replace("? ", "?"));
        Assert.Equal(WordTokenizer.Unknown, tokenizer.Vocabulary[0]);
    }

    [Fact]
    public void RareAndUnseenWords_BecomeUnk()
    {
        var tokenizer = WordTokenizer.FromText("a a a b b c", minCount: 2);
        Assert.Equal(["<unk>", "a", "b"], tokenizer.Vocabulary);
        Assert.Equal([1, 2, 0, 0], tokenizer.Encode("a b c zebra"));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([7]));
    }
}
