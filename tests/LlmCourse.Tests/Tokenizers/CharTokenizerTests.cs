using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

public sealed class CharTokenizerTests
{
    [Fact]
    public void Vocabulary_IsTheSortedDistinctCharacters()
    {
        var tokenizer = CharTokenizer.FromText("hello world\n");

        Assert.Equal("\n dehlorw", new string(tokenizer.Vocabulary.ToArray()));
        Assert.Equal(9, tokenizer.VocabSize);
        Assert.Equal(new[] { 4, 3, 5, 5, 6 }, tokenizer.Encode("hello")); // h e l l o in "\n dehlorw"
    }

    [Theory]
    [InlineData("First Citizen:\nBefore we proceed any further, hear me speak.")]
    [InlineData("")]
    [InlineData("héllo wörld — 日本語 😀")]
    public void Decode_InvertsEncode(string text)
    {
        var tokenizer = CharTokenizer.FromText(text);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    [Fact]
    public void UnknownCharacter_IsNamedWithItsPosition()
    {
        var tokenizer = CharTokenizer.FromText("abc");

        var e = Assert.Throws<ArgumentException>(() => tokenizer.Encode("abzc"));
        Assert.Contains("'z' (U+007A) at position 2", e.Message);
        var newline = Assert.Throws<ArgumentException>(() => tokenizer.Encode("a\n"));
        Assert.Contains("U+000A at position 1", newline.Message);
    }

    [Fact]
    public void IdOutsideTheVocabulary_IsRefused()
    {
        var tokenizer = CharTokenizer.FromText("abc");

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([0, 3]));
        Assert.Contains("token id 3 at position 1", e.Message);
        Assert.Throws<ArgumentException>(() => new CharTokenizer("aba"));
    }
}
