using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>
/// GPT-4's pattern (cl100k_base): our pre-tokenizer's split against js-tiktoken's, and full encoding
/// with cl100k's ranks, which js-tiktoken ships and writes out for us as a .tiktoken file (they are
/// not in our dataset catalog).
/// </summary>
[Trait("Category", "TokenizerParity")]
public sealed class Cl100kParityTests
{
    static readonly Lazy<RegexBpeTokenizer> cl100k = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmcourse-cl100k-{Guid.NewGuid():N}.tiktoken");
        try
        {
            var reference = JsTiktoken.Run([new { op = "ranks", encoding = "cl100k_base", path }])[0];
            Assert.Equal(PreTokenizer.Cl100kPattern, reference["pattern"]!.GetValue<string>());
            var specials = reference["special"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>());
            return RegexBpeTokenizer.LoadTiktoken(path, PreTokenizer.Cl100kPattern, specials, "cl100k_base");
        }
        finally
        {
            File.Delete(path);
        }
    });

    /// <summary>cl100k_base with js-tiktoken's ranks (shared with the Microsoft.ML.Tokenizers parity tests).</summary>
    internal static RegexBpeTokenizer Cl100k() => cl100k.Value;

    static List<string> Texts() => [.. ParityCorpus.Texts, .. ParityCorpus.Random(300, seed: 100)];

    [Fact]
    public void Split_IsJsTiktokens()
    {
        var texts = Texts();
        var responses = JsTiktoken.Run(texts.Select(t => (object)new { op = "split", encoding = "cl100k_base", text = t }).ToArray());
        for (var i = 0; i < texts.Count; i++)
        {
            var expected = responses[i]["pieces"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
            Assert.Equal(expected, PreTokenizer.Cl100k.Split(texts[i]));
        }
    }

    [Fact]
    public void Gpt2Split_IsJsTiktokens()
    {
        var texts = Texts();
        var responses = JsTiktoken.Run(texts.Select(t => (object)new { op = "split", encoding = "gpt2", text = t }).ToArray());
        for (var i = 0; i < texts.Count; i++)
        {
            var expected = responses[i]["pieces"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
            Assert.Equal(expected, PreTokenizer.Gpt2.Split(texts[i]));
        }
    }

    [Fact]
    public void Encode_IsJsTiktokens()
    {
        var tokenizer = cl100k.Value;
        var texts = Texts();
        var responses = JsTiktoken.Run(texts.Select(t => (object)new
        {
            op = "encode", encoding = "cl100k_base", text = t, allowedSpecial = "all", disallowedSpecial = "all",
        }).ToArray());
        for (var i = 0; i < texts.Count; i++)
            Gpt2ParityTests.AssertSameTokens(JsTiktoken.Tokens(responses[i]), tokenizer.Encode(texts[i], allowedSpecial: SpecialTokens.All), texts[i], tokenizer);
        Assert.Equal(100_277, tokenizer.VocabSize); // cl100k's explicit_n_vocab
    }
}
