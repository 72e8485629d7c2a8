using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>tiktoken's rules for special tokens, on a tokenizer with two of them.</summary>
public sealed class SpecialTokenTests
{
    static readonly Lazy<RegexBpeTokenizer> tokenizer = new(() =>
        RegexBpeTokenizer.Train(TestData.Shakespeare()[..50_000], 400, specialTokens: ["<|endoftext|>", "<|sep|>"]));

    static int Eot => tokenizer.Value.SpecialTokens["<|endoftext|>"];
    static int Sep => tokenizer.Value.SpecialTokens["<|sep|>"];

    [Fact]
    public void ByDefault_ASpecialTokenInText_IsRefused_NamingItAndWhere()
    {
        var e = Assert.Throws<DisallowedSpecialTokenException>(() => tokenizer.Value.Encode("hello <|sep|> world <|endoftext|>"));
        Assert.Equal("<|sep|>", e.Token);
        Assert.Equal(6, e.Position);
        Assert.Contains("'<|sep|>' at position 6", e.Message);
    }

    [Fact]
    public void Allowed_EncodesAsTheSpecialId_OthersStillRefused()
    {
        var ids = tokenizer.Value.Encode("a<|sep|>b", allowedSpecial: ["<|sep|>"]);
        Assert.Equal(1, ids.Count(id => id == Sep));
        Assert.Equal("a<|sep|>b", tokenizer.Value.Decode(ids));

        var e = Assert.Throws<DisallowedSpecialTokenException>(() => tokenizer.Value.Encode("a<|sep|>b<|endoftext|>", allowedSpecial: ["<|sep|>"]));
        Assert.Equal("<|endoftext|>", e.Token);
        Assert.Equal(9, e.Position);
    }

    [Fact]
    public void NeitherAllowedNorDisallowed_IsOrdinaryText()
    {
        var text = "x<|endoftext|>y<|sep|>z";
        var ids = tokenizer.Value.Encode(text, allowedSpecial: ["<|sep|>"], disallowedSpecial: []);
        Assert.DoesNotContain(Eot, ids);
        Assert.Contains(Sep, ids);
        Assert.Equal(text, tokenizer.Value.Decode(ids));

        var ordinary = tokenizer.Value.EncodeOrdinary(text);
        Assert.DoesNotContain(Eot, ordinary);
        Assert.DoesNotContain(Sep, ordinary);
        Assert.Equal(ordinary, tokenizer.Value.Encode(text, allowedSpecial: null, disallowedSpecial: []));
    }

    [Fact]
    public void AllowedAll_EncodesEverySpecialToken_IncludingAdjacentOnes()
    {
        var ids = tokenizer.Value.Encode("<|sep|><|endoftext|><|sep|>", allowedSpecial: SpecialTokens.All);
        Assert.Equal([Sep, Eot, Sep], ids);
        Assert.True(tokenizer.Value.IsSpecial(Eot));
    }

    [Fact]
    public void UnknownNameInAllowedSpecial_IsAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => tokenizer.Value.Encode("x", allowedSpecial: ["<|eot|>"]));
        Assert.Contains("'<|eot|>' is not a special token of this tokenizer (it has: <|endoftext|>, <|sep|>)", e.Message);
    }

    [Fact]
    public void UnknownId_InDecode_IsNamedWithItsPosition()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Value.Decode([65, 66, 9999]));
        Assert.Contains("Token id 9999 at position 2", e.Message);
    }

    [Fact]
    public void SpecialIds_MustNotCollideWithTheVocabulary()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new RegexBpeTokenizer(tokenizer.Value.Vocabulary, PreTokenizer.Gpt2Pattern, new Dictionary<string, int> { ["<|x|>"] = 97 }));
        Assert.Contains("'<|x|>' has id 97, which is already the BPE token a", e.Message);
    }

    [Fact]
    public void Tokenize_GivesByteOffsetsAndReadableText()
    {
        var pieces = tokenizer.Value.Tokenize("Hi 😀<|sep|>", allowedSpecial: SpecialTokens.All);
        Assert.Equal(0, pieces[0].ByteStart);
        for (var i = 1; i < pieces.Count; i++) Assert.Equal(pieces[i - 1].ByteStart + pieces[i - 1].ByteLength, pieces[i].ByteStart);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount("Hi 😀<|sep|>"), pieces[^1].ByteStart + pieces[^1].ByteLength);
        Assert.Equal(new TokenPiece(Sep, 7, 7, "<|sep|>", IsSpecial: true), pieces[^1]);
        // The emoji's four bytes are not one token here: its pieces show as escaped bytes.
        Assert.Contains(pieces, p => p.Text.Contains("\\xF0", StringComparison.Ordinal));
    }
}
