using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>Save then load gives the same tokenizer, in our format and in tiktoken's; broken files are named precisely.</summary>
public sealed class SaveLoadTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("llmcourse-tokenizers-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    static readonly Lazy<RegexBpeTokenizer> trained = new(() =>
        RegexBpeTokenizer.Train(TestData.Shakespeare()[..200_000], 512, specialTokens: ["<|endoftext|>", "<|pad|>"]));

    static string Sample => TestData.Shakespeare()[200_000..210_000] + "<|endoftext|> naïve 😀 日本";

    static void AssertSameTokenizer(RegexBpeTokenizer expected, RegexBpeTokenizer actual)
    {
        Assert.Equal(expected.Pattern, actual.Pattern);
        Assert.Equal(expected.SpecialTokens.OrderBy(s => s.Key), actual.SpecialTokens.OrderBy(s => s.Key));
        Assert.Equal(expected.VocabSize, actual.VocabSize);
        Assert.Equal(expected.Merges, actual.Merges);
        for (var id = 0; id < expected.Vocabulary.Count; id++)
            Assert.Equal(expected.Vocabulary.BytesOf(id).ToArray(), actual.Vocabulary.BytesOf(id).ToArray());
        Assert.Equal(expected.Encode(Sample, SpecialTokens.All), actual.Encode(Sample, SpecialTokens.All));
    }

    [Fact]
    public void OurFormat_SavesAndLoadsTheSameTokenizer()
    {
        var path = PathOf("shakespeare.bpe");
        trained.Value.Save(path);
        var lines = File.ReadAllLines(path);

        Assert.Equal(BpeModelFile.Header, lines[0]);
        Assert.Equal("pattern " + PreTokenizer.Gpt2Pattern, lines[1]);
        Assert.Equal(["special 2", "<|endoftext|> 510", "<|pad|> 511", "merges 254"], lines[2..6]);
        AssertSameTokenizer(trained.Value, RegexBpeTokenizer.Load(path));
    }

    [Fact]
    public void TiktokenFormat_SavesAndLoadsTheSameTokenizer()
    {
        var path = PathOf("shakespeare.tiktoken");
        trained.Value.SaveTiktoken(path);
        Assert.Equal(Convert.ToBase64String("a"u8) + " 97", File.ReadAllLines(path)[97]);

        var loaded = RegexBpeTokenizer.LoadTiktoken(path, trained.Value.Pattern, trained.Value.SpecialTokens);
        AssertSameTokenizer(trained.Value, loaded); // the merges are recovered from the ranks
    }

    [Fact]
    public void BasicTokenizer_SavesAndLoads()
    {
        var basic = BpeTokenizer.Train(TestData.Shakespeare()[..20_000], 300);
        var path = PathOf("basic.bpe");
        basic.Save(path);
        var loaded = BpeTokenizer.Load(path);
        Assert.Equal(basic.Merges, loaded.Merges);
        Assert.Equal(basic.Encode(Sample), loaded.Encode(Sample));
        Assert.Equal("pattern", File.ReadAllLines(path)[1]);
        Assert.Throws<InvalidDataException>(() => RegexBpeTokenizer.Load(path));
    }

    [Fact]
    public void Gpt2Ranks_WriteBackByteForByte()
    {
        var path = PathOf("r50k.tiktoken");
        TestData.Gpt2().SaveTiktoken(path);
        Assert.Equal(File.ReadAllBytes(TestData.R50kPath()), File.ReadAllBytes(path));

        // GPT-2 does not give byte b the id b, so its merges cannot be written as ids 256, 257, ...
        var e = Assert.Throws<InvalidOperationException>(() => TestData.Gpt2().Save(PathOf("gpt2.bpe")));
        Assert.Contains(".tiktoken", e.Message);
    }

    string Tiktoken(params string[] lines)
    {
        // All 256 bytes first, then the lines under test.
        var path = PathOf($"bad-{Guid.NewGuid():N}.tiktoken");
        File.WriteAllLines(path, Enumerable.Range(0, 256).Select(b => $"{Convert.ToBase64String(new[] { (byte)b })} {b}").Concat(lines));
        return path;
    }

    [Theory]
    [InlineData("aGk= 256\nnot*base64 257", "line 258: the token 'not*base64' is not valid base64")]
    [InlineData("aGk= two", "line 257: the rank 'two' is not a non-negative integer")]
    [InlineData("aGk= -3", "line 257: the rank '-3' is not a non-negative integer")]
    [InlineData("aGk= 256\naGV5 256", "line 258: rank 256 was already given on line 257")]
    [InlineData("aGk= 256\naGk= 257", "line 258: the token hi ('aGk=') already has rank 256 on line 257")]
    [InlineData("aGk=256", "line 257: expected '<base64 token> <rank>', found 'aGk=256'")]
    [InlineData("aGk= 1 2", "line 257: expected '<base64 token> <rank>'")]
    [InlineData("aGk= 99999999999", "line 257: the rank '99999999999' is not a non-negative integer")]
    [InlineData("aGk= 20000000", "line 257: the rank 20000000 is too large")]
    public void CorruptRankFile_IsNamedWithItsLineAndWhatIsWrong(string lines, string expected)
    {
        var path = Tiktoken(lines.Split('\n'));
        var e = Assert.Throws<InvalidDataException>(() => RegexBpeTokenizer.LoadTiktoken(path, PreTokenizer.Gpt2Pattern));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void RankFileWithoutEveryByte_IsRefused()
    {
        var path = PathOf("no-bytes.tiktoken");
        File.WriteAllLines(path, ["YQ== 0", "Yg== 1"]);
        var e = Assert.Throws<InvalidDataException>(() => RegexBpeTokenizer.LoadTiktoken(path, PreTokenizer.Gpt2Pattern));
        Assert.Contains("byte 0x00 has no token of its own", e.Message);

        File.WriteAllText(path, "");
        Assert.Contains("has no ranks", Assert.Throws<InvalidDataException>(() => TiktokenFile.Read(path)).Message);
    }

    [Theory]
    [InlineData("minbpe v1", "line 1: expected the header 'llmcourse-bpe v1'")]
    [InlineData("llmcourse-bpe v1\nregex x", "line 2: expected 'pattern <regex>' or 'pattern'")]
    [InlineData("llmcourse-bpe v1\npattern x\nspecial two", "line 3: expected 'special <count>'")]
    [InlineData("llmcourse-bpe v1\npattern x\nspecial 1\n<|eot|>", "line 4: expected '<special token> <id>'")]
    [InlineData("llmcourse-bpe v1\npattern x\nspecial 0\nmerges 2\n97 97", "before merge 1 of 2")]
    [InlineData("llmcourse-bpe v1\npattern x\nspecial 0\nmerges 1\n97 x", "line 5: expected '<left id> <right id>'")]
    [InlineData("llmcourse-bpe v1\npattern x\nspecial 0\nmerges 1\n97 256", "line 5: merge 0 (97, 256) uses an id not made yet")]
    [InlineData("llmcourse-bpe v1\npattern x\nspecial 0\nmerges 0\nextra", "line 5: unexpected text after the last merge")]
    public void CorruptModelFile_IsNamedWithItsLineAndWhatIsWrong(string content, string expected)
    {
        var path = PathOf("bad.bpe");
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidDataException>(() => RegexBpeTokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
