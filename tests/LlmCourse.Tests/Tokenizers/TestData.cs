using LlmCourse.Text;
using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>The downloadable files the tokenizer tests read; a test skips, saying why, when one cannot be had.</summary>
static class TestData
{
    static readonly Lazy<(string? Path, string? Why)> r50k = new(() => Find("r50k_base"));
    static readonly Lazy<(string? Path, string? Why)> shakespeare = new(() => Find("tinyshakespeare"));
    static readonly Lazy<RegexBpeTokenizer> gpt2 = new(() => Gpt2Tokenizer.Load(R50kPath()));

    public static string R50kPath() => r50k.Value.Path ?? Skip(r50k.Value.Why!);

    public static RegexBpeTokenizer Gpt2() => gpt2.Value;

    public static string Shakespeare() => File.ReadAllText(shakespeare.Value.Path ?? Skip(shakespeare.Value.Why!));

    static string Skip(string why)
    {
        Assert.Skip(why);
        return null!;
    }

    static (string?, string?) Find(string name)
    {
        try
        {
            return (Datasets.GetPath(name), null);
        }
        catch (DatasetUnavailableException e)
        {
            return (null, $"{name} is not available offline (set LLMCOURSE_DATA): {e.Message}");
        }
    }
}
