using LlmCourse.Tokenizers;

namespace LlmCourse.Tests.Tokenizers;

/// <summary>The pre-tokenizer on the cases the patterns were written for, and on code points outside the BMP.</summary>
public sealed class PreTokenizerTests
{
    [Fact]
    public void Gpt2Pattern_SplitsWordsWithTheirLeadingSpace_AndKeepsTheLastSpaceForTheNextWord()
    {
        // "\s+(?!\S)" takes a run of white space but its last character, which joins the next word
        // if it is a space ("    world" -> "   ", " world") and stands alone if not ("\n\nIt" -> "\n", "\n", "It").
        Assert.Equal(["Hello", ",", "   ", " world", "!", "\n", "\n", "It", "'s", " 42", "."], PreTokenizer.Gpt2.Split("Hello,    world!\n\nIt's 42."));
        // GPT-2's contractions are lower case only; cl100k's take any case.
        Assert.Equal(["IT", "'", "S"], PreTokenizer.Gpt2.Split("IT'S"));
        Assert.Equal(["IT", "'S"], PreTokenizer.Cl100k.Split("IT'S"));
        // cl100k: numbers in groups of up to three digits; one non-letter may lead a word.
        Assert.Equal(["123", "456", "7"], PreTokenizer.Cl100k.Split("1234567"));
        Assert.Equal(["$hello"], PreTokenizer.Cl100k.Split("$hello"));
    }

    [Fact]
    public void LettersOutsideTheBmp_AreLetters()
    {
        // U+1D400 MATHEMATICAL BOLD CAPITAL A is a letter (Lu), U+1D7CF MATHEMATICAL BOLD DIGIT ONE a
        // digit (Nd), although .NET's Regex sees each as two surrogates.
        Assert.Equal(["x", " 𝐀𝐁c", " 𝟏𝟐"], PreTokenizer.Gpt2.Split("x 𝐀𝐁c 𝟏𝟐"));
        // An emoji is one code point, so cl100k lets it lead a word like any other non-letter.
        Assert.Equal(["😀abc", " 😀", "x"], PreTokenizer.Cl100k.Split("😀abc 😀x"));
    }

    [Fact]
    public void UnicodeWhiteSpace_FollowsTiktoken()
    {
        // U+0085 (NEXT LINE) is White_Space in Unicode and in Rust's and Python's \s (tiktoken, GPT-2);
        // U+FEFF is not. (JavaScript's \s has it the other way round, so js-tiktoken differs here.)
        Assert.Equal(["a", "\u0085", "b"], PreTokenizer.Gpt2.Split("a\u0085b"));
        Assert.Equal(["a", " \uFEFF", "b"], PreTokenizer.Gpt2.Split("a \uFEFFb"));
    }

    [Fact]
    public void Pieces_CoverTheTextWithoutGaps_ForTheseTwoPatterns()
    {
        foreach (var text in ParityCorpus.Texts.Concat(ParityCorpus.Random(200, 7)))
            foreach (var pre in new[] { PreTokenizer.Gpt2, PreTokenizer.Cl100k })
                Assert.Equal(text, string.Concat(pre.Split(text)));
    }

    [Fact]
    public void CustomPattern_IsCompiled_AndABadOneNamed()
    {
        Assert.Equal(["ab", "cd"], PreTokenizer.For(@"\w\w").Split("abcde"));
        var e = Assert.Throws<ArgumentException>(() => PreTokenizer.For("(unclosed"));
        Assert.Contains("(unclosed", e.Message);
    }
}
