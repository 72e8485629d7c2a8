using System.Text;
using System.Text.Json.Nodes;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>
/// Our GPT-2 tokenizer against js-tiktoken's <c>gpt2</c> encoding, token for token. Every expected id
/// comes from js-tiktoken in the same run; none is typed in.
/// </summary>
[Trait("Category", "TokenizerParity")]
public sealed class Gpt2ParityTests
{
    static object Encode(string text, object? allowedSpecial = null, object? disallowedSpecial = null) =>
        new { op = "encode", encoding = "gpt2", text, allowedSpecial = allowedSpecial ?? Array.Empty<string>(), disallowedSpecial = disallowedSpecial ?? "all" };

    /// <summary>Asserts equal token lists, and on a difference shows where, with the text around it.</summary>
    internal static void AssertSameTokens(int[] expected, int[] actual, string text, RegexBpeTokenizer ours)
    {
        if (expected.AsSpan().SequenceEqual(actual)) return;
        var at = 0;
        while (at < Math.Min(expected.Length, actual.Length) && expected[at] == actual[at]) at++;
        string Around(int[] ids) => string.Join(" | ", ids.Skip(Math.Max(0, at - 3)).Take(8)
            .Select(id => ours.Vocabulary.Contains(id) ? $"{id} '{ours.Vocabulary.Display(id)}'" : id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Fail($"First difference at token {at} of {expected.Length} (ours has {actual.Length}) in text of {text.Length} chars:\n" +
                    $"  js-tiktoken: {Around(expected)}\n  ours:        {Around(actual)}\n  text: {Shorten(text)}");
    }

    static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    [Fact]
    public void Corpus_EncodesAsJsTiktoken()
    {
        var gpt2 = TestData.Gpt2();
        var responses = JsTiktoken.Run(ParityCorpus.Texts.Select(t => Encode(t)).ToArray());
        for (var i = 0; i < ParityCorpus.Texts.Length; i++)
            AssertSameTokens(JsTiktoken.Tokens(responses[i]), gpt2.Encode(ParityCorpus.Texts[i]), ParityCorpus.Texts[i], gpt2);
    }

    [Fact]
    public void RandomTexts_EncodeAsJsTiktoken()
    {
        var gpt2 = TestData.Gpt2();
        var texts = ParityCorpus.Random(400, seed: 2024);
        var responses = JsTiktoken.Run(texts.Select(t => Encode(t, allowedSpecial: "all")).ToArray());
        for (var i = 0; i < texts.Count; i++)
            AssertSameTokens(JsTiktoken.Tokens(responses[i]), gpt2.Encode(texts[i], allowedSpecial: SpecialTokens.All), texts[i], gpt2);
    }

    [Fact]
    public void TinyShakespeare_InChunks_EncodesAsJsTiktoken()
    {
        var gpt2 = TestData.Gpt2();
        var text = TestData.Shakespeare();
        // Chunks of 64 KiB cut at arbitrary places (mid-word, mid-line), so chunk edges test too.
        var chunks = new List<string>();
        for (var start = 0; start < text.Length; start += 65_536) chunks.Add(text.Substring(start, Math.Min(65_536, text.Length - start)));
        var responses = JsTiktoken.Run(chunks.Select(c => Encode(c)).ToArray());
        var total = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var expected = JsTiktoken.Tokens(responses[i]);
            AssertSameTokens(expected, gpt2.Encode(chunks[i]), chunks[i], gpt2);
            total += expected.Length;
        }
        Assert.True(total > 250_000, $"TinyShakespeare gave only {total} tokens");
    }

    [Fact]
    public void EndOfText_AllowedOrNot_AsJsTiktoken()
    {
        var gpt2 = TestData.Gpt2();
        const string text = "The end.<|endoftext|>A new document<|endoftext|><|endoftext|> starts";
        var responses = JsTiktoken.Run(
        [
            Encode(text, allowedSpecial: "all"),
            Encode(text, allowedSpecial: new[] { Gpt2Tokenizer.EndOfText }),
            Encode(text, disallowedSpecial: Array.Empty<string>()),
            Encode(text),
        ]);

        var allowed = JsTiktoken.Tokens(responses[0]);
        AssertSameTokens(allowed, gpt2.Encode(text, allowedSpecial: SpecialTokens.All), text, gpt2);
        AssertSameTokens(JsTiktoken.Tokens(responses[1]), gpt2.Encode(text, allowedSpecial: [Gpt2Tokenizer.EndOfText]), text, gpt2);
        AssertSameTokens(JsTiktoken.Tokens(responses[2]), gpt2.Encode(text, allowedSpecial: null, disallowedSpecial: []), text, gpt2);
        AssertSameTokens(JsTiktoken.Tokens(responses[2]), gpt2.EncodeOrdinary(text), text, gpt2);
        Assert.Equal(3, allowed.Count(id => id == Gpt2Tokenizer.EndOfTextId));

        // Not allowed: both refuse; ours names the token and where it is.
        Assert.Contains("<|endoftext|>", responses[3]["error"]!.GetValue<string>());
        var refused = Assert.Throws<DisallowedSpecialTokenException>(() => gpt2.Encode(text));
        Assert.Equal(Gpt2Tokenizer.EndOfText, refused.Token);
        Assert.Equal(text.IndexOf("<|endoftext|>", StringComparison.Ordinal), refused.Position);
        Assert.Contains("at position 8", refused.Message);
    }

    [Fact]
    public void KnownIds_AndVocabularySize_MatchJsTiktoken()
    {
        var gpt2 = TestData.Gpt2();
        string[] texts = ["Hello world", " hello", "GPT-2", "<|endoftext|>", "indivisibility", "\n\n"];
        var responses = JsTiktoken.Run(
            texts.Select(t => Encode(t, allowedSpecial: "all"))
                 .Append(new { op = "ranks", encoding = "gpt2", path = Path.Combine(Path.GetTempPath(), $"llmcourse-gpt2-{Guid.NewGuid():N}.tiktoken") })
                 .ToArray());

        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(JsTiktoken.Tokens(responses[i]), gpt2.Encode(texts[i], allowedSpecial: SpecialTokens.All));

        // 50,256 BPE ranks plus <|endoftext|>: the reference's special-token table and pattern.
        var reference = responses[^1];
        Assert.Equal(gpt2.Pattern, reference["pattern"]!.GetValue<string>());
        Assert.Equal(Gpt2Tokenizer.EndOfTextId, reference["special"]![Gpt2Tokenizer.EndOfText]!.GetValue<int>());
        Assert.Equal(50_256, gpt2.Vocabulary.TokenCount);
        Assert.Equal(50_257, gpt2.VocabSize);
    }

    [Fact]
    public void RankFileFromJsTiktoken_IsTheCatalogsRankFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"llmcourse-gpt2-{Guid.NewGuid():N}.tiktoken");
        try
        {
            JsTiktoken.Run([new { op = "ranks", encoding = "gpt2", path }]);
            var theirs = TiktokenFile.Read(path);
            var ours = TiktokenFile.Read(TestData.R50kPath());
            Assert.Equal(theirs.Length, ours.Length);
            for (var rank = 0; rank < ours.Length; rank++) Assert.Equal(theirs[rank], ours[rank]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Decode_OfIdsCutMidCharacter_ReplacesAsJsTiktoken()
    {
        var gpt2 = TestData.Gpt2();
        const string text = "😀 日本語 é 👨‍👩‍👧 𝐀 done";
        var ids = gpt2.Encode(text);
        // Every contiguous slice: many start or end inside a character's bytes.
        var slices = new List<int[]>();
        for (var start = 0; start < ids.Length; start++)
            for (var end = start + 1; end <= ids.Length; end++) slices.Add(ids[start..end]);
        var responses = JsTiktoken.Run(slices.Select(s => (object)new { op = "decode", encoding = "gpt2", ids = s }).ToArray());

        var replaced = 0;
        for (var i = 0; i < slices.Count; i++)
        {
            var expected = responses[i]["text"]!.GetValue<string>();
            Assert.Equal(expected, gpt2.Decode(slices[i]));
            replaced += expected.Contains('\uFFFD', StringComparison.Ordinal) ? 1 : 0;
        }
        Assert.True(replaced > 10, $"only {replaced} slices had invalid UTF-8; the test is not testing replacement");
        Assert.Equal(text, gpt2.Decode(ids));
        Assert.Equal(Encoding.UTF8.GetBytes(text), gpt2.DecodeBytes(ids));
    }
}
