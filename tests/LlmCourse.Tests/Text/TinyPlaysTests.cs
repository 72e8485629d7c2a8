using LlmCourse.Text;

namespace LlmCourse.Tests.Text;

public sealed class TinyPlaysTests
{
    /// <summary>The repository's datasets folder, found from the test's working directory upwards.</summary>
    internal static string DatasetsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "datasets", "catalog.json")))
                return Path.Combine(dir.FullName, "datasets");
        throw new DirectoryNotFoundException("datasets/catalog.json not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void CommittedFile_EqualsTheGeneratorsOutput()
    {
        var path = Path.Combine(DatasetsFolder(), TinyPlays.FileName);
        var generated = TinyPlays.Generate();
        var committed = File.ReadAllText(path);
        if (committed == generated) return;

        // Compared before writing, so regenerating never turns a difference into a pass: the run that
        // rewrites the file still fails, and the next one (after a rebuild embeds it) passes.
        var regenerate = Environment.GetEnvironmentVariable("LLMCOURSE_REGENERATE") == "1";
        if (regenerate) File.WriteAllText(path, generated);
        Assert.Fail(regenerate
            ? $"{path} differed from TinyPlays.Generate() and was rewritten ({committed.Length} → {generated.Length} chars): " +
              "review `git diff datasets/`, rebuild (the library embeds it) and run the tests again"
            : $"{path} ({committed.Length} chars) differs from TinyPlays.Generate() ({generated.Length} chars); " +
              "regenerate it with LLMCOURSE_REGENERATE=1 dotnet test tests/LlmCourse.Tests -c Release --filter TinyPlays");
    }

    [Fact]
    public void Embedded_EqualsTheCommittedFile()
    {
        Assert.Equal(File.ReadAllText(Path.Combine(DatasetsFolder(), TinyPlays.FileName)), Corpus.BuiltIn().Text);
    }

    [Fact]
    public void Generate_IsDeterministic_AndDependsOnTheSeed()
    {
        Assert.Equal(TinyPlays.Generate(20_000), TinyPlays.Generate(20_000));
        Assert.NotEqual(TinyPlays.Generate(20_000, seed: 1), TinyPlays.Generate(20_000, seed: 2));
    }

    [Fact]
    public void Text_IsVariedEnglishInShakespearesLayout()
    {
        var text = TinyPlays.Generate();
        Assert.InRange(text.Length, TinyPlays.DefaultLength, TinyPlays.DefaultLength + 20_000);
        // Only the printable ASCII a character model of TinyShakespeare also sees.
        Assert.All(text, c => Assert.True(c == '\n' || (c >= ' ' && c <= '~'), $"unexpected character U+{(int)c:X4}"));
        var words = text.Split([' ', '\n', ',', '.', '!', '?', ';', ':'], StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Distinct().Count() > 300, "too few distinct words");
        Assert.Contains("\n\nKING:\n", text);
        // Agreement: no singular subject with a plural verb form among the fixed pronouns.
        Assert.DoesNotContain(" he are ", text);
        Assert.DoesNotContain(" they is ", text);
        Assert.DoesNotContain("I is ", text);
    }
}
